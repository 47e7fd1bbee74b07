"""Package list for setuptools (the rest of the build is in pyproject.toml).

Only here because pyproject.toml cannot both discover the code packages and add one mapped from another
folder: the source tree's data/ folder ships as the package ``wildwatch_data`` (read-only data found by
wildwatch.resources; pyproject.toml's package-data says which files of it ship and which never do).
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["wildwatch*", "crawler*", "classifier*", "store*", "bench*", "review*"])
    + ["wildwatch_data"],
    package_dir={"wildwatch_data": "data"},
)
