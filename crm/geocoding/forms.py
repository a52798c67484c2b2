from flask_wtf import FlaskForm
from wtforms.validators import NumberRange, Optional

from crm.core.forms import LocalizedIntegerField
from crm.geocoding.service import BatchCounts


def _count_field() -> LocalizedIntegerField:
    return LocalizedIntegerField(validators=[Optional(), NumberRange(min=0)])


class BatchStepForm(FlaskForm):
    """The state a running batch carries from one step to the next (hidden fields)."""

    cursor = _count_field()
    positioned = _count_field()
    not_found = _count_field()
    failed = _count_field()

    def counts(self) -> BatchCounts:
        return BatchCounts(
            positioned=self.positioned.data or 0, not_found=self.not_found.data or 0, failed=self.failed.data or 0
        )
