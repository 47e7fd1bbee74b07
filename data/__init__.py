"""wildwatch's read-only data, installed by the wheel as the package ``wildwatch_data``.

setup.py maps this folder to that package and pyproject.toml lists what ships (lexicon, taxa, labelled
training data, the demo catalogue) and what does not (evaluation-only sets, benchmarks, databases).
wildwatch.resources finds it; nothing imports this module for its code.
"""
