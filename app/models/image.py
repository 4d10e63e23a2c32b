"""One stored image: its object-storage key, type and acquisition metadata."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, SoftDeleteMixin, TimestampMixin, str_enum
from app.models.enums import ImageType, PreprocessState, QcState, Sex

if TYPE_CHECKING:
    from app.models.converted_file import ConvertedFile
    from app.models.dataset import Dataset
    from app.models.image_file import ImageFile
    from app.models.scanner import Scanner
    from app.models.subject import Subject
    from app.models.visit import Visit


class Image(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "image"
    __table_args__ = (
        UniqueConstraint("dataset_id", "path"),
        # The API's commonest questions: one dataset's images of a type, and whether a subject
        # has an image of a type (the has_type filter of /subjects).
        Index("ix_image_dataset_id_type", "dataset_id", "type"),
        Index("ix_image_subject_id_type", "subject_id", "type"),
        # The search read model: a filtered count of a researcher's form (dataset, type,
        # condition, sex, age range) is a range scan of this one index, with no join; QC state,
        # withdrawal and subject ride along so that the count and /stats read the index alone;
        # the id too, so that a measure filter (image.id IN image_measure's range) joins it
        # without reading the table.
        Index("ix_image_search", "dataset_id", "type", "search_condition_id", "search_sex",
              "search_age_at_scan", "qc_state", "deleted_at", "subject_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    # None when the image has no visit on or before its acquisition day.
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    scanner_id: Mapped[int | None] = mapped_column(ForeignKey("scanner.id"), index=True)
    type: Mapped[ImageType] = mapped_column(str_enum(ImageType, "type"), index=True)
    path: Mapped[str] = mapped_column(String(1024))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    checksum: Mapped[str | None] = mapped_column(String(128))
    days_since_baseline: Mapped[int | None] = mapped_column(index=True)
    preprocessed: Mapped[PreprocessState] = mapped_column(
        str_enum(PreprocessState, "preprocessed"),
        default=PreprocessState.NONE,
        server_default=PreprocessState.NONE.value,
    )
    metadata_json: Mapped[dict[str, Any] | None]
    # The latest QC review's state (history in qc_review); blacklisted images leave queries.
    qc_state: Mapped[QcState] = mapped_column(
        str_enum(QcState, "qc_state"), default=QcState.NEW, server_default=QcState.NEW.value,
        index=True,
    )
    # RADIFOX-style type names (bodypart-modality-technique-acqdim-orientation-excontrast):
    # predicted from the header or sidecar, and given by hand; the manual one wins (app/names/).
    predicted_name: Mapped[str | None] = mapped_column(String(255))
    manual_name: Mapped[str | None] = mapped_column(String(255))

    # The search read model: copies of what the API filters, sorts and groups images by, taken
    # from the image's subject, visit and scanner (app/models/search.py keeps them right; the
    # engine refreshes them in every load's transaction). NULL where the source is unknown.
    search_condition_id: Mapped[int | None] = mapped_column(
        doc="The visit's condition when known, else the subject's.")
    search_sex: Mapped[Sex | None] = mapped_column(str_enum(Sex, "search_sex"))
    search_age_at_scan: Mapped[float | None] = mapped_column(
        doc="The subject's age on the scan day (the image's own day, else its visit's).")
    search_field_strength: Mapped[float | None] = mapped_column(index=True)
    search_manufacturer: Mapped[str | None] = mapped_column(
        String(128), index=True, doc="The scanner's manufacturer, lower-cased.")

    dataset: Mapped[Dataset] = relationship(back_populates="images")
    subject: Mapped[Subject] = relationship(back_populates="images")
    visit: Mapped[Visit | None] = relationship(back_populates="images")
    scanner: Mapped[Scanner | None] = relationship()
    # The files of a multi-file image (a DICOM series), by key; empty for a one-object image.
    files: Mapped[list[ImageFile]] = relationship(
        back_populates="image", order_by="ImageFile.key", cascade="all, delete-orphan",
        passive_deletes=True)
    # What dcm2niix made of a DICOM image, by role (app/files/converted.py); empty otherwise.
    converted_files: Mapped[list[ConvertedFile]] = relationship(
        back_populates="image", order_by="ConvertedFile.role", cascade="all, delete-orphan",
        passive_deletes=True)
