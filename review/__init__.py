"""The analysts' review app and what it drives: the queue, decisions with an audit trail, tips,
evidence packages, and training from decisions.

`review.app.create_app` builds the Flask app (`wildwatch review` serves it with
waitress on 127.0.0.1); `review.tips`, `review.evidence` and `review.learning`
are shared by the app and the `wildwatch tip`, `evidence` and `train --with-reviews`
commands.
"""
