"""GET /file_types: the kinds of derived files."""


def test_lists_file_types(world, get):
    body = get("/file_types").get_json()
    assert body["items"] == [
        {"id": world.id("file_types", "mask"), "designation": "brain_mask", "description": None},
        {"id": world.id("file_types", "mni"), "designation": "T1_mni", "description": "to MNI"},
    ]
    assert body["total"] == 2
