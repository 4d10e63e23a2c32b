"""GET /stats: counts by dataset x type x condition, sex and age, under the /images filters."""


def test_counts_every_live_image(world, get):
    assert get("/stats").get_json() == {
        "subjects": 5,
        "images": 8,
        "groups": [
            {"dataset": "ALPHA", "type": "DWI", "condition": "HC", "subjects": 1, "images": 1},
            {"dataset": "ALPHA", "type": "T1", "condition": "AD", "subjects": 1, "images": 1},
            {"dataset": "ALPHA", "type": "T1", "condition": "HC", "subjects": 1, "images": 1},
            {"dataset": "ALPHA", "type": "T1", "condition": None, "subjects": 1, "images": 1},
            {"dataset": "BETA", "type": "FieldMap", "condition": None, "subjects": 1,
             "images": 1},
            {"dataset": "BETA", "type": "T1", "condition": "AD", "subjects": 1, "images": 1},
            {"dataset": "BETA", "type": "T1", "condition": "HC", "subjects": 1, "images": 1},
            {"dataset": "BETA", "type": "rsfMRI", "condition": "HC", "subjects": 1, "images": 1},
        ],
        "sex": [
            {"sex": "female", "subjects": 3, "images": 6},
            {"sex": "male", "subjects": 1, "images": 1},
            {"sex": "unknown", "subjects": 1, "images": 1},
        ],
        "age": [
            {"age_min": 50, "age_max": 60, "subjects": 1, "images": 1},
            {"age_min": 60, "age_max": 70, "subjects": 1, "images": 2},
            {"age_min": 70, "age_max": 80, "subjects": 1, "images": 3},
            {"age_min": 80, "age_max": 90, "subjects": 1, "images": 1},
            {"age_min": None, "age_max": None, "subjects": 1, "images": 1},
        ],
    }


def test_honours_the_image_filters(world, get):
    body = get("/stats", type="T1", sex="female").get_json()
    assert (body["subjects"], body["images"]) == (3, 4)
    assert body["groups"] == [
        {"dataset": "ALPHA", "type": "T1", "condition": "AD", "subjects": 1, "images": 1},
        {"dataset": "ALPHA", "type": "T1", "condition": "HC", "subjects": 1, "images": 1},
        {"dataset": "BETA", "type": "T1", "condition": "AD", "subjects": 1, "images": 1},
        {"dataset": "BETA", "type": "T1", "condition": "HC", "subjects": 1, "images": 1},
    ]
    assert body["sex"] == [{"sex": "female", "subjects": 3, "images": 4}]


def test_ages_past_the_last_bin_share_an_open_one(session, get):
    from tests.support.factories import make_image, make_subject

    old = make_subject(session, age_at_baseline=101.0, sex="male")
    make_image(session, subject=old, days_since_baseline=0)
    session.commit()
    assert get("/stats").get_json()["age"] == [
        {"age_min": 100, "age_max": None, "subjects": 1, "images": 1}]


def test_no_match_gives_zero_counts(world, get):
    assert get("/stats", sex="other").get_json() == {
        "subjects": 0, "images": 0, "groups": [], "sex": [], "age": []}
