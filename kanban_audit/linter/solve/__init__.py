"""The whole-program pass: join the summaries, follow values to the writes.

index      names across modules: functions, classes, globals, re-exports
evaluate   what an expression can be, in a call context, within one budget
templates  the texts a string expression can have (SQL built from pieces)
mappings   dict views, dict(...), `**kwargs` parameters and `**mapping` spreads
unroll     comprehensions over known iterables, one item per element
models     pydantic models and dataclasses: their fields and bounded values
ormmodels  ORM models: the tasks model, the class a write is about, a field's choices
ormforms   Django forms and the admin: the fields a user may edit
outside_members  members of a states class outside the analysed code, told apart by name
instances  what an instance holds: its constructor's arguments, fields set before it is passed
columns    SET columns named by a dict's keys
receivers  the classes an object a method is called on may belong to
dispatch   `getattr(obj, name[, default])(...)`: the methods the name can match
decorators what a decorated name denotes (decorator_classes: `@cls`, `@cls(args)`)
exceptions whether an `except` catches a `raise`, classes followed to their bases
sinks      what each write stores in the guarded column
callgraph  who calls whom, and which functions an entry point reaches
program    the four together, grown file by file
"""
