"""Formulaires WTForms (un module par famille d'écrans) et validateurs partagés."""
