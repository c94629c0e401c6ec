"""Se connecter par les vrais écrans, double authentification comprise : après le mot de passe, un compte
qui l'a activée saisit le code que calcule pyotp depuis son secret (ce que ferait son application)."""

from __future__ import annotations

from tests.fabriques_db import MOT_DE_PASSE, code_totp

CODE = "/compte/connexion/code"


def se_connecter(client, email: str, mot_de_passe: str = MOT_DE_PASSE, suite: str | None = None):
    """Le formulaire de connexion, puis le code s'il est demandé ; la dernière réponse."""
    adresse = "/compte/connexion" + (f"?next={suite}" if suite else "")
    reponse = client.post(adresse, data={"email": email, "mot_de_passe": mot_de_passe})
    if reponse.status_code == 302 and reponse.headers["Location"].startswith(CODE):
        reponse = client.post(CODE, data={"code": code_totp(email)})
    return reponse


def code_dans_le_navigateur(page, email: str) -> None:
    """Dans Chromium, le second temps de la connexion s'il est demandé."""
    if CODE in page.url:
        page.get_by_label("Code de vérification").fill(code_totp(email))
        with page.expect_navigation():
            page.get_by_role("button", name="Vérifier et me connecter").click()
