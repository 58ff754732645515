"""Writes of the campaign domain, one module per entity.

Every public function is keyword-only, takes the acting ``Actor`` and checks its
permission, validates its input once (raising ``InvalidInput`` naming the field), keeps
tenant ownership consistent and queues side effects with ``transaction.on_commit``.
"""
