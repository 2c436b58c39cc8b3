"""The record types of the airline tables (the shape of tau-bench's airline JSON files).

Keys declared in a ``total=False`` class are optional: they appear only for some records (a
gift card's ``amount``, a flight day's ``prices``) or once a tool sets them (``status``).
"""

from __future__ import annotations

from typing import Any, TypedDict


class Name(TypedDict):
    first_name: str
    last_name: str


class Passenger(TypedDict):
    first_name: str
    last_name: str
    dob: str


class _PaymentMethodKeys(TypedDict):
    source: str  # "credit_card", "gift_card" or "certificate"
    id: str


class PaymentMethod(_PaymentMethodKeys, total=False):
    brand: str
    last_four: str
    amount: float  # gift cards and certificates


class User(TypedDict):
    name: Name
    address: dict[str, str]
    email: str
    dob: str
    payment_methods: dict[str, PaymentMethod]
    saved_passengers: list[Passenger]
    membership: str
    reservations: list[str]


class FlightLeg(TypedDict):
    origin: str
    destination: str
    flight_number: str
    date: str
    price: float


class PaymentRecord(TypedDict):
    payment_id: str
    amount: float


class _ReservationKeys(TypedDict):
    reservation_id: str
    user_id: str
    origin: str
    destination: str
    flight_type: str
    cabin: str
    flights: list[FlightLeg]
    passengers: list[Passenger]
    payment_history: list[PaymentRecord]
    created_at: str
    total_baggages: int
    nonfree_baggages: int
    insurance: str


class Reservation(_ReservationKeys, total=False):
    status: str  # "cancelled" once cancelled


class _FlightDayKeys(TypedDict):
    status: str  # "available", "landed", "cancelled", "delayed", "on time", "flying"


class FlightDay(_FlightDayKeys, total=False):
    available_seats: dict[str, int]
    prices: dict[str, int]
    actual_departure_time_est: str
    actual_arrival_time_est: str
    estimated_departure_time_est: str
    estimated_arrival_time_est: str


class Flight(TypedDict):
    flight_number: str
    origin: str
    destination: str
    scheduled_departure_time_est: str
    scheduled_arrival_time_est: str
    dates: dict[str, FlightDay]


#: Table name -> record type.
TABLES: dict[str, Any] = {"users": User, "reservations": Reservation, "flights": Flight}
