"""The support desk: carries out what :func:`replies.policy.decide` plans, for customers and agents.

``customers`` applies a plan for a customer message in one write step and relays it to the agents;
``agents`` checks an agent's answer with the guard and queues it, or holds it with the reason and a
better wording; ``texts`` holds every Chinese string staff read; ``board``, ``bans`` and ``verdicts``
are the staff board, the ban list and the memo of guard verdicts; ``cores`` bundles the pure rules
the desk is given (guard, classifier, scripts, FAQ, policy). Nothing here speaks the Bot API.
"""
