"""The process engine (流程引擎): ticket statuses and the workflows that move tickets between them.

- `models` and `statuses` — the one catalogue of statuses (key, fixed category, colour, zh/en
  labels) that every workflow, list, filter and report shares;
- `definition` — a workflow as the admin writes it (statuses used, transitions with who may
  take them, a guard in the condition language, required fields and actions), validated whole;
- `compiled` — a published version ready to run: transitions by status, guards compiled once;
- `service` — drafts, publishing (through `fuwu.configs`) and which workflow governs a type;
- `decider` — the engine's part in every ticket change (`fuwu.fields.deciders`);
- `approval`, `tally`, `approvals` — approval states (审批): who approves, how votes add up by
  mode, and the rounds and votes as they run (the ticket side is `fuwu.tickets.approvals`).

It imports nothing of tickets: the change pipeline asks it, through the decider interface.
"""
