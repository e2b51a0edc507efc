"""Writes of the ticket's state through a session."""

from sqlalchemy import update

from desk.models import Ticket


def grab(session, ticket_id):
    ticket = session.get(Ticket, ticket_id)
    ticket.state = "active"
    session.commit()


def reopen(session, ticket_id):
    session.execute(update(Ticket).where(Ticket.id == ticket_id).values(state="active"))


def patch(session, ticket_id, body):
    ticket = session.get(Ticket, ticket_id)
    ticket.state = body["state"]


def close(session, ticket_id):
    ticket = session.get(Ticket, ticket_id)
    ticket.state = "closed"
