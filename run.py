"""Start the MBID-db API, first bringing the database schema up to date."""
import logging
import os

from flask_migrate import upgrade

from app import create_app

app = create_app()

if __name__ == "__main__":
    with app.app_context():
        upgrade()  # creates missing tables through the migrations, never behind their back
    logging.getLogger(__name__).info("serving the API on http://127.0.0.1:5000/api/v1")
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")))
