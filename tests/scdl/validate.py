"""Validates SCDL "subventions" CSV files with frictionless against the 2.1.0 Table
Schema beside this script, then runs the two checks that schema declares as custom
ones, which frictionless does not: `idAttribuant` and `idBeneficiaire` are valid SIRETs
(Luhn on the 14 digits and on the SIREN), and each row has `idBeneficiaire` or
`rnaBeneficiaire`.

Usage: python validate.py FILE.csv... — prints one line per error, exits 1 if any.
"""

import csv
import json
import pathlib
import sys

from frictionless import Resource, Schema

SCHEMA = pathlib.Path(__file__).with_name("subventions-2.1.0.schema.json")


def luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def siret_valid(value: str) -> bool:
    return len(value) == 14 and value.isdigit() and luhn(value) and luhn(value[:9])


def custom_errors(path: pathlib.Path) -> list[str]:
    errors = []
    with path.open(encoding="utf-8", newline="") as file:
        for row_number, row in enumerate(csv.DictReader(file), start=2):
            for column in ("idAttribuant", "idBeneficiaire"):
                value = row.get(column, "")
                if value and not siret_valid(value):
                    errors.append(f"row {row_number}: {column} {value!r} is not a valid SIRET")
            if not row.get("idBeneficiaire") and not row.get("rnaBeneficiaire"):
                errors.append(f"row {row_number}: neither idBeneficiaire nor rnaBeneficiaire")
    return errors


def errors_of(path: pathlib.Path) -> list[str]:
    # A descriptor, not a path: frictionless refuses absolute paths as unsafe.
    schema = Schema.from_descriptor(json.loads(SCHEMA.read_text(encoding="utf-8")))
    resource = Resource(path=path.name, basepath=str(path.parent), schema=schema)
    report = resource.validate()
    errors = [
        f"row {e.get('rowNumber', '-')}: {e['type']}: {e['message']}"
        for task in report.tasks
        for e in (error.to_descriptor() for error in task.errors)
    ]
    return errors + custom_errors(path)


def main() -> int:
    failed = False
    for argument in sys.argv[1:]:
        for line in errors_of(pathlib.Path(argument).resolve()):
            failed = True
            print(f"{argument}: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
