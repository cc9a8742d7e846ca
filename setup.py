"""The one build step pyproject.toml cannot declare: ship the repository's rate table.

``rates.csv`` stays at the repository root, where analysts edit it and Streamlit Community Cloud
reads it; a built wheel gets a copy inside the ``store`` package, where ``store.pricing`` looks
once installed. Everything else about the build is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RATES = Path(__file__).resolve().parent / "rates.csv"


class BuildPyWithRates(build_py):
    """build_py that also copies the root rates.csv to ``store/rates.csv`` in the build."""

    def run(self) -> None:
        super().run()
        # an editable install reads the root file in place (store.pricing.default_rates)
        if not self.editable_mode:
            self.copy_file(str(RATES), str(Path(self.build_lib) / "store" / "rates.csv"))


setup(cmdclass={"build_py": BuildPyWithRates})
