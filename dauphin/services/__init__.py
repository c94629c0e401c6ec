"""Les cas d'usage : charger et verrouiller, vérifier le droit, déclencher, journaliser, valider."""
