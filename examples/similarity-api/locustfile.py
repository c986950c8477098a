"""Load test of the similarity API: 90% queries, 10% inserts.

Queries are AG News titles; an insert stores a new text, the title of one
AG News item and the description of another, under a fresh id.  Every id
whose insert succeeded is written, one a line, to $SIMAPI_INSERTED.<pid>,
so that run.sh can check afterwards that each of them is in the table and
found by the index.  When Locust exits, the final request statistics go to
$SIMAPI_STATS in the format of Locust's --csv *_stats.csv (which Locust
itself writes only once a second, so it misses the last requests).

Environment: SIMAPI_CORPUS (ag_news_test.csv), SIMAPI_INSERTED (file
prefix), SIMAPI_WAIT ("MIN MAX" seconds between one user's requests,
default "0.2 0.5"), SIMAPI_K (default 10).
"""
import csv
import json
import os
import random

from locust import FastHttpUser, between, events, task
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

with open(os.environ["SIMAPI_CORPUS"], encoding="utf-8") as f:
    ITEMS = [(r["title"], r["description"]) for r in csv.DictReader(f)]
K = int(os.environ.get("SIMAPI_K", "10"))
WAIT = [float(x) for x in os.environ.get("SIMAPI_WAIT", "0.2 0.5").split()]
inserted = open(f"{os.environ['SIMAPI_INSERTED']}.{os.getpid()}", "w", buffering=1)
HEADERS = {"content-type": "application/json"}


@events.quit.add_listener
def final_stats(exit_code, **kwargs):
    """After the users have stopped: the ids are complete, and so are the figures."""
    inserted.close()
    with open(os.environ["SIMAPI_STATS"], "w", newline="") as f:
        StatsCSV(ENVIRONMENT[0], PERCENTILES_TO_REPORT).requests_csv(csv.writer(f))


ENVIRONMENT = []


@events.init.add_listener
def keep_environment(environment, **kwargs):
    ENVIRONMENT.append(environment)


class ApiUser(FastHttpUser):
    wait_time = between(*WAIT)
    serial = 0

    @task(9)
    def query(self):
        title = random.choice(ITEMS)[0]
        body = json.dumps({"description": title, "k": K})
        with self.client.post("/query", data=body, headers=HEADERS, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
            elif len(json.loads(r.content)["results"]) != K:
                r.failure("fewer than k results")

    @task(1)
    def insert(self):
        ApiUser.serial += 1
        item_id = f"lt-{os.getpid()}-{ApiUser.serial}"
        text = f"{random.choice(ITEMS)[0]}. {random.choice(ITEMS)[1]}"
        body = json.dumps({"id": item_id, "description": text, "metadata": {"source": "locust"}})
        with self.client.post("/insert", data=body, headers=HEADERS, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
            else:
                inserted.write(item_id + "\n")
