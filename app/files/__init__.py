"""An image's stored files: the objects it is served from and the rule that they lie in its
dataset's folder (image_files.py), and QA previews of NIfTI images (previews.py)."""
