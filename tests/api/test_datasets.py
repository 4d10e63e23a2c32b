"""GET /datasets and /datasets/{id}: live datasets with subject, visit and per-type image counts."""


def test_list_counts_live_subjects_visits_and_images_per_type(world, get):
    body = get("/datasets").get_json()
    assert body == {
        "items": [
            {"id": world.id("datasets", "ALPHA"), "designation": "ALPHA", "description": "first",
             "subject_count": 2, "visit_count": 3, "image_count": 4,
             "image_counts_by_type": {"T1": 3, "DWI": 1, "rsfMRI": 0, "FieldMap": 0,
                                      "Mammogram": 0}},
            {"id": world.id("datasets", "BETA"), "designation": "BETA", "description": "second",
             "subject_count": 3, "visit_count": 4, "image_count": 4,
             "image_counts_by_type": {"T1": 2, "DWI": 0, "rsfMRI": 1, "FieldMap": 1,
                                      "Mammogram": 0}},
        ],
        "total": 2, "page": 1, "per_page": 50, "next_cursor": None,
    }


def test_sort_and_pages(world, get):
    body = get("/datasets", sort="-designation", per_page=1).get_json()
    assert [item["designation"] for item in body["items"]] == ["BETA"]
    following = get("/datasets", sort="-designation", per_page=1, cursor=body["next_cursor"])
    assert [item["designation"] for item in following.get_json()["items"]] == ["ALPHA"]
    assert following.get_json()["next_cursor"] is None


def test_dataset_without_rows_has_zero_counts(session, get):
    from tests.support.factories import make_dataset

    empty = make_dataset(session, designation="EMPTY", description=None)
    session.commit()
    assert get(f"/datasets/{empty.id}").get_json() == {
        "id": empty.id, "designation": "EMPTY", "description": None, "subject_count": 0,
        "visit_count": 0, "image_count": 0,
        "image_counts_by_type": {"T1": 0, "DWI": 0, "rsfMRI": 0, "FieldMap": 0, "Mammogram": 0}}


def test_detail_and_404_for_missing_or_deleted(world, get):
    body = get(f"/datasets/{world.id('datasets', 'BETA')}").get_json()
    assert (body["designation"], body["subject_count"], body["image_count"]) == ("BETA", 3, 4)
    gone = world.id("datasets", "GONE")
    response = get(f"/datasets/{gone}")
    assert response.status_code == 404
    assert response.get_json() == {"status": 404, "error": "Not Found",
                                   "message": f"no dataset with id {gone}"}
