"""The Summit's programme file is a faithful transcription of the preliminary programme.

The expected values below are copied from the document (shared/seeds/000_…txt) by hand, not
computed: each session's date and title, its times as the document prints them for Izmir,
Paris and Montréal, its people with their tbc/tbd marks, and its guiding questions.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from townhall.platform.models import Appearance, Event, Person, ProgrammeSession, Room, RoomEvent
from townhall.platform.programme import import_programme
from townhall.platform.programme_spec import PersonSpec, ProgrammeSpec, SessionSpec
from townhall.platform.timezones import ZonedSpan, spans_in_zones

# (slug, title, date) in programme order.
DOCUMENT_SESSIONS = [
    (
        "mayors-dialogue",
        "Mayors Dialogue on the state of social cohesion in cities",
        date(2021, 12, 7),
    ),
    (
        "interactive-city-dialogue",
        "Interactive City Dialogue - Living Together: lessons learnt and perspectives for"
        " cities in the future",
        date(2021, 12, 7),
    ),
    (
        "workshop-1-building-resilience",
        "Thematic workshop 1: Building resilience in cities",
        date(2021, 12, 8),
    ),
    (
        "workshop-2-diversity-equity-inclusion",
        "Thematic workshop 2: Fostering diversity, equity and inclusion",
        date(2021, 12, 8),
    ),
    (
        "workshop-3-dialogue-solidarity",
        "Thematic workshop 3: Promoting dialogue and solidarity",
        date(2021, 12, 8),
    ),
    (
        "plenary-human-rights-democracy",
        "Plenary session on Human Rights and Democracy",
        date(2021, 12, 10),
    ),
    (
        "high-level-panel-closing-ceremony",
        "Plenary: High Level Panel on Living Together and Human Rights -Closing Ceremony",
        date(2021, 12, 10),
    ),
]

# The "Time:" block of each session, as printed. December 10 reads "Izmir: XhX-XhX TRT".
DOCUMENT_TIMES: dict[str, list[str] | None] = {
    "mayors-dialogue": [
        "Izmir: 16h-17h30 TRT (UTC+3)",
        "Paris: 14h-15h30 CET (UTC+1)",
        "Montréal: 8h-9h30 EST (UTC-5)",
    ],
    "interactive-city-dialogue": [
        "Izmir: 17h45-19h TRT (UTC+3)",
        "Paris: 15h45-17h CET (UTC+1)",
        "Montréal: 9h45-11h EST (UTC-5)",
    ],
    "workshop-1-building-resilience": [
        "Izmir: 16h-17h30 TRT (UTC+3)",
        "Paris: 14h-15h30 CET (UTC+1)",
        "Montréal: 8h-9h30 EST (UTC-5)",
    ],
    "workshop-2-diversity-equity-inclusion": [
        "Izmir: 17h45-19h TRT (UTC+3)",
        "Paris: 15h45-17h CET (UTC+1)",
        "Montréal: 9h45-11h EST (UTC-5)",
    ],
    "workshop-3-dialogue-solidarity": [
        "Izmir: 19h15-20h30 TRT (UTC+3)",
        "Paris: 17h15-18h30 CET (UTC+1)",
        "Montréal: 11h15-12h30 EST (UTC-5)",
    ],
    "plenary-human-rights-democracy": None,
    "high-level-panel-closing-ceremony": None,
}

# zoneinfo has no abbreviation for Türkiye's zone (its name is "+03"); the document writes TRT.
ABBREVIATIONS_ZONEINFO_LACKS = {"Europe/Istanbul": "TRT"}

# (role, segment, status, who): who is the person's name, else the slot's label,
# organisation or city, as the document prints it.
DOCUMENT_PEOPLE: dict[str, list[tuple[str, str | None, str, str]]] = {
    "mayors-dialogue": [
        ("welcome", "Welcome and opening", "confirmed", "Tunç Soyer"),
        ("welcome", "Welcome and opening", "tbd", "City of Montréal Representative"),
        ("keynote", "Keynote speeches", "confirmed", "Miguel Angel Moratinos"),
        ("keynote", "Keynote speeches", "tbc", "Gabriela Ramos"),
        ("moderator", "Mayors Dialogue", "confirmed", "Ayten Alkan"),
        ("special_message", "Mayors Dialogue", "confirmed", "Khaled Bentounes"),
    ],
    "interactive-city-dialogue": [
        ("presenter", None, "confirmed", "Lorenzo Kihlgren Grandi"),
        ("panelist", "Introduction Panel", "confirmed", "Armand Roland Pierre Béouindé"),
        ("panelist", "Introduction Panel", "tbc", "Other mayors/speakers"),
        (
            "moderator",
            "Interactive City Dialogue",
            "tbc",
            "Office of International Relations, Ville de Montréal",
        ),
    ],
    "workshop-1-building-resilience": [
        ("moderator", None, "tbc", "Güldem Özdoğan"),
        ("introduction", "Introduction", "confirmed", "Sameh Wahba"),
        ("introduction", "Introduction", "confirmed", "Lina Liakou"),
        ("panelist", "Panel - Cities Good practices", "tbc", "Rabat"),
        ("panelist", "Panel - Cities Good practices", "tbc", "Paris"),
        ("panelist", "Panel - Cities Good practices", "tbc", "Namur"),
        ("panelist", "Panel - Cities Good practices", "tbc", "Glasgow"),
        ("discussant", "Discussion", "tbc", "Ruşen Keleş"),
    ],
    "workshop-2-diversity-equity-inclusion": [
        ("moderator", None, "tbc", "Moderator to be announced"),
        ("introduction", "Introduction", "tbc", "Linda Tinio"),
        ("introduction", "Introduction", "confirmed", "Sena Segbedzi"),
        ("panelist", "Panel - Cities Good practices", "confirmed", "Larissa Orlovic"),
        ("panelist", "Panel - Cities Good practices", "confirmed", "Bochra Manai"),
        (
            "panelist",
            "Panel - Cities Good practices",
            "confirmed",
            "Directorate of Urban Justice and Equality, Izmir Metropolitan Municipality",
        ),
        ("panelist", "Panel - Cities Good practices", "tbc", "Montevideo"),
        ("discussant", "Discussion", "confirmed", "Cenk Saraçoğlu"),
    ],
    "workshop-3-dialogue-solidarity": [
        ("moderator", None, "confirmed", "Begüm Özden Fırat"),
        ("introduction", "Introduction", "confirmed", "Eric Rosand"),
        ("introduction", "Introduction", "tbc", "Daniel Holtgen"),
        ("panelist", "Panel - Cities good practices", "confirmed", "Québec"),
        ("panelist", "Panel - Cities good practices", "confirmed", "Strasbourg"),
        ("panelist", "Panel - Cities good practices", "confirmed", "Berlin"),
        ("panelist", "Panel - Cities good practices", "confirmed", "Douala"),
        ("discussant", "Discussion", "confirmed", "Ulas Bayraktar"),
    ],
    "plenary-human-rights-democracy": [],
    "high-level-panel-closing-ceremony": [],
}

MAYORS_DIALOGUE_QUESTIONS = (
    "What are the main challenges affecting social cohesion in the current context?",
    "How can cities and local governments address these challenges at the local level? Which"
    " local policies and practices are promising?",
    "How can cities mobilize key local stakeholders in order foster peaceful coexistence,"
    " inclusion and respect for human rights.",
)
INTERACTIVE_DIALOGUE_QUESTIONS = (
    "Over the last years, what are the main global challenges related to this notion?",
    "What are the main achievements of this movement and its related initiatives?",
    "What are the lessons learned at the international and local level?",
    "What are the trends and future perspectives related to social cohesion in view of the next"
    " challenges (e.g.: post-COVID recovery, climate change, new technologies, etc.).",
)
WORKSHOP_3_QUESTIONS = (
    "How have cities handled this new wave of social tensions?",
    "What strategies have cities put in place to create a sense of belonging, promote dialogue"
    " and solidarity and create a livable environment?",
    "What good examples at the local level could serve to the others?",
)
ONLINE_SLUGS = [slug for slug, _, day in DOCUMENT_SESSIONS if day < date(2021, 12, 10)]


def session_of(spec: ProgrammeSpec, slug: str) -> SessionSpec:
    return next(s for s in spec.sessions if s.slug == slug)


def document_style(span: ZonedSpan) -> str:
    """Our span, written the way the document writes it: "Paris: 14h-15h30 CET (UTC+1)"."""
    style = span.programme_style()
    if not span.abbreviation:
        style = style.replace(" (", f" {ABBREVIATIONS_ZONEINFO_LACKS[span.zone]} (", 1)
    return f"{span.label}: {style}"


def zone_table(spec: ProgrammeSpec) -> dict[str, list[str] | None]:
    zones = [{"label": z.label, "zone": z.zone} for z in spec.event.reference_zones]
    table: dict[str, list[str] | None] = {}
    for session in spec.sessions:
        if session.starts_at is None or session.ends_at is None:
            table[session.slug] = None
            continue
        spans = spans_in_zones(session.starts_at, session.ends_at, zones, session.day)
        table[session.slug] = [document_style(span) for span in spans]
    return table


def who(person: PersonSpec) -> str:
    return person.name or person.label or person.organisation or person.city or ""


def people_table(spec: ProgrammeSpec) -> dict[str, list[tuple[str, str | None, str, str]]]:
    people = {p.key: p for p in spec.people}
    return {
        s.slug: [(a.role, a.segment, a.status, who(people[a.person])) for a in s.appearances]
        for s in spec.sessions
    }


def test_summit_sessions_match_the_document(summit_spec: ProgrammeSpec) -> None:
    sessions = [(s.slug, s.title, s.day) for s in summit_spec.sessions]

    assert sessions == DOCUMENT_SESSIONS


def test_summit_event_matches_the_document(summit_spec: ProgrammeSpec) -> None:
    event = summit_spec.event

    assert (
        event.slug,
        event.title,
        event.timezone,
        event.programme_status,
        [(z.label, z.zone) for z in event.reference_zones],
        [(p.slug, p.format, p.location, p.dates) for p in event.parts],
    ) == (
        "mayors-summit-2021",
        "3rd Mayors Summit on Living Together",
        "Europe/Istanbul",
        "Preliminary programme (Nov. 28)",
        [("Izmir", "Europe/Istanbul"), ("Paris", "Europe/Paris"), ("Montréal", "America/Toronto")],
        [
            ("online", "online", "Online", (date(2021, 12, 7), date(2021, 12, 8))),
            ("on-site", "on-site", "Izmir", (date(2021, 12, 10),)),
        ],
    )


def test_summit_times_in_every_reference_zone_match_the_document(
    summit_spec: ProgrammeSpec,
) -> None:
    assert zone_table(summit_spec) == DOCUMENT_TIMES


def test_summit_istanbul_has_no_zoneinfo_abbreviation(summit_spec: ProgrammeSpec) -> None:
    session = session_of(summit_spec, "mayors-dialogue")
    assert session.starts_at is not None and session.ends_at is not None
    zones = [{"label": "Izmir", "zone": "Europe/Istanbul"}]

    [span] = spans_in_zones(session.starts_at, session.ends_at, zones, session.day)

    assert (span.abbreviation, span.programme_style()) == ("", "16h-17h30 (UTC+3)")


def test_summit_december_10_sessions_have_their_time_to_be_announced(
    summit_spec: ProgrammeSpec,
) -> None:
    tba = [
        (s.slug, s.format, s.starts_at, s.ends_at)
        for s in summit_spec.sessions
        if s.day == date(2021, 12, 10)
    ]

    assert tba == [
        ("plenary-human-rights-democracy", "on-site", None, None),
        ("high-level-panel-closing-ceremony", "on-site", None, None),
    ]


def test_summit_people_and_their_confirmation_match_the_document(
    summit_spec: ProgrammeSpec,
) -> None:
    assert people_table(summit_spec) == DOCUMENT_PEOPLE


def test_summit_named_people_keep_titles_and_affiliations(summit_spec: ProgrammeSpec) -> None:
    people = {p.key: p for p in summit_spec.people}

    assert [people["guldem-ozdogan"], people["tunc-soyer"]] == [
        PersonSpec(
            key="guldem-ozdogan",
            name="Güldem Özdoğan",
            honorific="Ms.",
            postnominals="DPhil",
            position="Visiting Research Fellow",
            organisation="Newcastle University",
        ),
        PersonSpec(
            key="tunc-soyer",
            name="Tunç Soyer",
            honorific="Mr",
            position="Mayor",
            organisation="Izmir Metropolitan Municipality",
            city="Izmir",
            country="Türkiye",
        ),
    ]


def test_summit_guiding_questions_are_verbatim(summit_spec: ProgrammeSpec) -> None:
    counts = {s.slug: len(s.guiding_questions) for s in summit_spec.sessions}

    assert counts == {
        "mayors-dialogue": 3,
        "interactive-city-dialogue": 4,
        "workshop-1-building-resilience": 3,
        "workshop-2-diversity-equity-inclusion": 3,
        "workshop-3-dialogue-solidarity": 3,
        "plenary-human-rights-democracy": 0,
        "high-level-panel-closing-ceremony": 0,
    }
    assert [
        session_of(summit_spec, slug).guiding_questions
        for slug in (
            "mayors-dialogue",
            "interactive-city-dialogue",
            "workshop-3-dialogue-solidarity",
        )
    ] == [MAYORS_DIALOGUE_QUESTIONS, INTERACTIVE_DIALOGUE_QUESTIONS, WORKSHOP_3_QUESTIONS]


def test_summit_descriptions_keep_their_paragraphs(summit_spec: ProgrammeSpec) -> None:
    closing = session_of(summit_spec, "high-level-panel-closing-ceremony")

    assert closing.description.split("\n\n") == [
        "A high-level meeting of mayors and other urban leaders from around the world who will"
        " thoroughly discuss the challenges and the future of living together and its organic"
        " relationship with human rights in cities. The interdependence of human rights and"
        " living together is a crucial issue for the future of liveable and harmonious cities"
        " in a post-COVID recovery context.",
        "This high-level session will be the closing ceremony of the event.",
    ]


async def row_counts(db: AsyncSession) -> dict[str, int]:
    counts = {}
    for model in (Event, Person, ProgrammeSession, Appearance, Room, RoomEvent):
        counts[model.__tablename__] = await db.scalar(select(func.count()).select_from(model))
    return counts


async def test_summit_import_twice_creates_no_duplicates(
    db: AsyncSession, summit_spec: ProgrammeSpec
) -> None:
    await import_programme(db, spec=summit_spec)
    await db.commit()
    first = await row_counts(db)

    result = await import_programme(db, spec=summit_spec)
    await db.commit()

    assert (first, await row_counts(db), result.created, result.removed, result.events) == (
        {
            "events": 1,
            "people": 34,
            "programme_sessions": 7,
            "appearances": 34,
            "rooms": 5,
            "room_events": 0,
        },
        {
            "events": 1,
            "people": 34,
            "programme_sessions": 7,
            "appearances": 34,
            "rooms": 5,
            "room_events": 0,
        },
        [],
        [],
        [],
    )


async def test_summit_import_gives_rooms_to_online_sessions_only(
    db: AsyncSession, summit_spec: ProgrammeSpec
) -> None:
    await import_programme(db, spec=summit_spec)
    await db.commit()

    rooms = (
        await db.execute(
            select(ProgrammeSession.slug, Room.state)
            .join(Room, Room.session_id == ProgrammeSession.id)
            .order_by(ProgrammeSession.position)
        )
    ).all()

    assert [tuple(row) for row in rooms] == [(slug, "scheduled") for slug in ONLINE_SLUGS]
