"""Risk monitoring: realised against predicted default by grade on the platform's booked loans,
and the stability of application scores against the champion card's development sample."""
