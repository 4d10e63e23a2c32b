"""GET /conditions: the master list of diagnoses every dataset's labels map onto."""
from app.api.master_lists import master_list_blueprint
from app.api.query.columns import term_columns
from app.models import Condition

blp = master_list_blueprint(
    Condition, "conditions", __name__, description="Master list of diagnoses",
    example="Alzheimer's disease", extra_columns=term_columns(Condition),
    doc="List the conditions (their designations are the values of the condition filter).")
