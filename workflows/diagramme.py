"""Diagrammes Mermaid (stateDiagram-v2) générés à partir des machines elles-mêmes."""

from transitions.extensions import GraphMachine

from workflows.moteur import Definition


class _Modele:
    """Objet jetable : GraphMachine a besoin d'un modèle pour dessiner."""


def mermaid(definition: Definition) -> str:
    graphe = GraphMachine(
        model=_Modele(),
        **definition.arguments_machine(),
        graph_engine="mermaid",
        show_conditions=True,
        title=definition.nom,
    )
    texte = graphe.get_graph().draw(None)
    # Pas de mise en couleur de l'état « actif » d'un modèle jetable : le diagramme décrit la machine.
    lignes = [ligne for ligne in texte.splitlines() if not ligne.strip().startswith(("classDef ", "Class "))]
    libelles = {etat.value: etat.libelle for etat in definition.etats}
    return "\n".join(_libeller(ligne, libelles) for ligne in lignes).strip() + "\n"


def _libeller(ligne: str, libelles: dict[str, str]) -> str:
    # `state "brouillon" as brouillon` → `state "Brouillon" as brouillon`
    morceaux = ligne.strip().split(" ")
    if len(morceaux) == 4 and morceaux[0] == "state" and morceaux[2] == "as":
        return f'  state "{libelles.get(morceaux[3], morceaux[3])}" as {morceaux[3]}'
    return ligne
