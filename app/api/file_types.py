"""GET /file_types: the kinds of derived files preprocessing produces."""
from app.api.master_lists import master_list_blueprint
from app.models import FileType

blp = master_list_blueprint(
    FileType, "file_types", __name__, description="Kinds of derived files", example="T1_mni",
    doc="List the kinds of derived files.")
