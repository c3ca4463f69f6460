"""Risk models: train a scorecard from labelled past loans, score files with it, evaluate it.

``pricing`` applies scorecards in the service; this package builds them. It scores through
``pricing.scorecard.score_values`` so training, file scoring and the service give the same
points and PDs. It needs the heavy ``autofin[risk]`` extra (optbinning, pandas, matplotlib),
which the service never imports.
"""

INSTALL_HINT = (
    "autofin risk needs the training libraries: pip install 'autofin[risk]' "
    "(or 'autofin[dev]', which includes them)"
)
