"""Quality control: completeness of visits against the study's expected tags (completeness.py),
reviews of images (reviews.py) and the session hook that hides blacklisted images from the
queries of API requests (hidden.py)."""
