"""The scorecard registry: immutable, versioned cards; one champion decides, one challenger is
scored in shadow."""
