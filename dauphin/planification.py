"""Reprises planifiées avec le planificateur de RQ (RQ 2.5 et suivants) :

    rq cron --url "$DAUPHIN_REDIS_URL" dauphin.planification

Un seul processus `rq cron` suffit (à côté des travailleurs `rq worker … dauphin`). Il dépose chaque minute
dans la file une tâche qui reprend les courriels restés en attente (SMTP ou Redis en panne au moment de
la transition) ; un travailleur l'exécute. Sans Redis, la même reprise se planifie par cron :
`flask courriels envoyer` (voir le README, « Production »).
"""

from rq import cron

from dauphin import jobs, taches

REPRISE_COURRIELS_SECONDES = 60

# ttl : sans travailleur pendant un moment, les reprises ne s'empilent pas dans la file (une suffit).
cron.register(
    taches.envoyer_courriels,
    jobs.FILE,
    interval=REPRISE_COURRIELS_SECONDES,
    ttl=5 * REPRISE_COURRIELS_SECONDES,
)
