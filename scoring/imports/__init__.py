"""Imports of program data (data-formats.md): one validation path behind every door.

`import_csv` serves `manage.py import_data` and the staff upload page, `import_records` the bulk
API. Both validate the whole batch first and write nothing unless every row is good.
"""

from scoring.imports.api import import_csv, import_records
from scoring.imports.result import ImportResult, RowError
from scoring.imports.specs import KINDS, SPECS, KindSpec

__all__ = ["KINDS", "SPECS", "ImportResult", "KindSpec", "RowError", "import_csv", "import_records"]
