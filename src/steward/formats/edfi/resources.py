"""Ed-Fi API JSON resources as files: a directory with one ``<resource>.jsonl`` (or ``.json`` array)
per resource, bodies shaped as the Ed-Fi 5.x API returns them.

Reading turns resources into Ed-Fi entities (then :func:`steward.formats.edfi.canonical.to_canonical`).
Writing turns canonical records into resources. Canonical fields Ed-Fi has no element for (CEDARS
flags, the district enrollment spell, the school year of an event) travel in the resource's
``_ext.steward`` extension, the Ed-Fi way of carrying local data; an Ed-Fi consumer ignores it and
Steward reads it back, so canonical -> Ed-Fi JSON -> canonical loses nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

from steward.domain import records as r
from steward.formats.edfi import descriptors as d
from steward.formats.edfi import model as m
from steward.formats.report import ConversionReport, Severity

Body = dict[str, Any]


def _desc(name: str, value: str) -> str:
    return d.uri(name, value) if value else ""


def _cv(value: Any) -> str:
    return d.code_value(value) if isinstance(value, str) else ""


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def _num(value: Decimal | None) -> Any:
    return None if value is None else str(value)


def _ext(body: Body) -> dict[str, Any] | None:
    ext = body.get("_ext", {}).get("steward") if isinstance(body.get("_ext"), dict) else None
    return ext if isinstance(ext, dict) else None


def _clean(body: Body) -> Body:
    return {k: v for k, v in body.items() if v not in (None, "", [], {})}


# ------------------------------------------------------------------------------------------ writing


class ResourceWriter:
    """Collects canonical records and writes Ed-Fi API resources into ``directory`` on close."""

    def __init__(self, directory: Path, *, report: ConversionReport | None = None) -> None:
        self.directory = Path(directory)
        self.report = report if report is not None else ConversionReport()
        self.out: dict[str, list[Body]] = defaultdict(list)
        self._schools: dict[str, Body] = {}
        self._leas: dict[str, Body] = {}
        self._sessions: dict[tuple[str, int, str], list[date]] = defaultdict(list)
        self._students: dict[str, Body] = {}
        self._seoa: dict[tuple[str, str], Body] = {}
        self._grade: dict[str, str] = {}
        self._staff: dict[str, Body] = {}
        self._contacts: dict[str, Body] = {}
        self._courses: dict[tuple[str, str], Body] = {}
        self._offerings: set[tuple[str, str, int, str]] = set()
        self._sections: set[tuple[str, str, int, str, str]] = set()
        self._incidents: dict[tuple[str, str], Body] = {}
        self._assessments: dict[str, Body] = {}
        self._school_ssas: list[r.SchoolStudent] = []
        self._races: list[r.StudentRace] = []

    def __enter__(self) -> ResourceWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()

    def write_all(self, records: Iterable[r.Record]) -> None:
        for record in records:
            self.write(record)

    def _lea(self, code: str, name: str = "") -> None:
        body = self._leas.setdefault(
            code, {"localEducationAgencyId": code, "nameOfInstitution": name or code}
        )
        if name:
            body["nameOfInstitution"] = name

    def _school(self, district: str, location: str) -> Body:
        self._lea(district)
        return self._schools.setdefault(
            location,
            {
                "schoolId": location,
                "nameOfInstitution": location,
                "localEducationAgencyReference": {"localEducationAgencyId": district},
                "_ext": {"steward": {"locations": []}},
            },
        )

    def _session(self, school: str, year: int, name: str, *days: date | None) -> Body:
        key = (school, year, name)
        self._sessions[key].extend(x for x in days if x is not None)
        return {"schoolId": school, "schoolYear": year, "sessionName": name}

    def _section_ref(
        self, year: int, district: str, school: str, course: str, section: str, term: str
    ) -> Body:
        self._school(district, school)
        session = self._session(school, year, term)
        if (school, course, year, term) not in self._offerings:
            self._offerings.add((school, course, year, term))
            self.out["courseOfferings"].append(
                {
                    "localCourseCode": course,
                    "schoolReference": {"schoolId": school},
                    "sessionReference": session,
                    "courseReference": {"courseCode": course, "educationOrganizationId": school},
                }
            )
            self._courses.setdefault(
                (school, course),
                {
                    "courseCode": course,
                    "courseTitle": course,
                    "numberOfParts": 1,
                    "educationOrganizationReference": {"educationOrganizationId": school},
                    "_ext": {"steward": {"years": []}},
                },
            )
        if (school, course, year, term, section) not in self._sections:
            self._sections.add((school, course, year, term, section))
            self.out["sections"].append(
                {
                    "sectionIdentifier": section,
                    "courseOfferingReference": {
                        "localCourseCode": course,
                        "schoolId": school,
                        "schoolYear": year,
                        "sessionName": term,
                    },
                }
            )
        return {
            "sectionIdentifier": section,
            "localCourseCode": course,
            "schoolId": school,
            "schoolYear": year,
            "sessionName": term,
        }

    def write(self, rec: r.Record) -> None:
        self.report.read[type(rec).__name__] += 1
        out = self.out
        if isinstance(rec, r.Location):
            self._lea(rec.district_code, rec.district_name)
            school = self._school(rec.district_code, rec.location_id)
            school["nameOfInstitution"] = rec.school_name
            school["_ext"]["steward"]["locations"].append(
                {"schoolYear": rec.school_year, "schoolCode": rec.school_code}
            )
            self._session(rec.location_id, rec.school_year, f"{rec.school_year - 1}-{rec.school_year}")
            for day in (rec.first_day, rec.last_day):
                if day is not None:
                    out["calendarDates"].append(
                        {
                            "date": day.isoformat(),
                            "calendarReference": {
                                "calendarCode": str(rec.school_year),
                                "schoolId": rec.location_id,
                                "schoolYear": rec.school_year,
                            },
                            "calendarEvents": [
                                {
                                    "calendarEventDescriptor": _desc(
                                        "CalendarEventDescriptor", "Instructional day"
                                    )
                                }
                            ],
                        }
                    )
        elif isinstance(rec, r.DistrictStudent):
            self._lea(rec.district_code)
            student = self._students.setdefault(
                rec.student_id,
                _clean(
                    {
                        "studentUniqueId": rec.student_id,
                        "firstName": rec.first_name,
                        "middleName": rec.middle_name,
                        "lastSurname": rec.last_name,
                        "birthDate": rec.birth_date.isoformat(),
                        "birthCountryDescriptor": _desc("CountryDescriptor", rec.birth_country),
                    }
                )
                | {"_ext": {"steward": {"districtEnrollments": [], "races": []}}},
            )
            student["_ext"]["steward"]["districtEnrollments"].append(_district_spell(rec))
            seoa = self._seoa.setdefault(
                (rec.student_id, rec.district_code),
                {
                    "studentReference": {"studentUniqueId": rec.student_id},
                    "educationOrganizationReference": {"educationOrganizationId": rec.district_code},
                    "races": [],
                },
            )
            if rec.sex:
                seoa["sexDescriptor"] = _desc("SexDescriptor", d.SEX_TO_EDFI.get(rec.sex, rec.sex))
            if rec.ethnicity_code in ("1", "2"):
                seoa["hispanicLatinoEthnicity"] = rec.ethnicity_code == "1"
            if rec.state_id:
                seoa["studentIdentificationCodes"] = [
                    {
                        "studentIdentificationSystemDescriptor": _desc(
                            "StudentIdentificationSystemDescriptor", "State"
                        ),
                        "assigningOrganizationIdentificationCode": "State",
                        "identificationCode": rec.state_id,
                    }
                ]
            self._grade[rec.student_id] = rec.grade_level
        elif isinstance(rec, r.StudentRace):
            seoa = self._seoa.setdefault(
                (rec.student_id, rec.district_code),
                {
                    "studentReference": {"studentUniqueId": rec.student_id},
                    "educationOrganizationReference": {"educationOrganizationId": rec.district_code},
                    "races": [],
                },
            )
            race = _desc("RaceDescriptor", d.RACE_TO_EDFI.get(rec.race_code, rec.race_code))
            if {"raceDescriptor": race} not in seoa["races"]:
                seoa["races"].append({"raceDescriptor": race})
            self._races.append(rec)
        elif isinstance(rec, r.SchoolStudent):
            self._school(rec.district_code, rec.location_id)
            self._school_ssas.append(rec)
        elif isinstance(rec, r.Course):
            self._school(rec.district_code, rec.location_id)
            body = self._courses.setdefault((rec.location_id, rec.course_id), {})
            body.update(
                {
                    "courseCode": rec.course_id,
                    "courseTitle": rec.title,
                    "numberOfParts": 1,
                    "educationOrganizationReference": {"educationOrganizationId": rec.location_id},
                }
            )
            if rec.state_course_code:
                body["identificationCodes"] = [
                    {
                        "courseIdentificationSystemDescriptor": _desc(
                            "CourseIdentificationSystemDescriptor", "State course code"
                        ),
                        "identificationCode": rec.state_course_code,
                    }
                ]
            steward = body.setdefault("_ext", {"steward": {"years": []}})["steward"]
            steward["years"].append(
                {
                    "schoolYear": rec.school_year,
                    "districtCode": rec.district_code,
                    "contentArea": rec.content_area,
                    "designation": rec.designation,
                    "apIb": rec.ap_ib,
                }
            )
            session_name = f"{rec.school_year - 1}-{rec.school_year}"
            self._session(rec.location_id, rec.school_year, session_name)
            if (rec.location_id, rec.course_id, rec.school_year, session_name) not in self._offerings:
                self._offerings.add((rec.location_id, rec.course_id, rec.school_year, session_name))
                out["courseOfferings"].append(
                    {
                        "localCourseCode": rec.course_id,
                        "localCourseTitle": rec.title,
                        "schoolReference": {"schoolId": rec.location_id},
                        "sessionReference": {
                            "schoolId": rec.location_id,
                            "schoolYear": rec.school_year,
                            "sessionName": session_name,
                        },
                        "courseReference": {
                            "courseCode": rec.course_id,
                            "educationOrganizationId": rec.location_id,
                        },
                    }
                )
        elif isinstance(rec, r.ScheduleEntry):
            ref = self._section_ref(
                rec.school_year, rec.district_code, rec.location_id, rec.course_id, rec.section_id, rec.term
            )
            self._session(rec.location_id, rec.school_year, rec.term, rec.entry_date, rec.exit_date)
            out["studentSectionAssociations"].append(
                _clean(
                    {
                        "studentReference": {"studentUniqueId": rec.student_id},
                        "sectionReference": ref,
                        "beginDate": rec.entry_date.isoformat(),
                        "endDate": _iso(rec.exit_date),
                        "_ext": {"steward": {"districtCode": rec.district_code, "stateId": rec.state_id}},
                    }
                )
            )
        elif isinstance(rec, r.Staff):
            self._school(rec.district_code, rec.location_id)
            self._staff.setdefault(
                rec.staff_id,
                _clean(
                    {
                        "staffUniqueId": rec.staff_id,
                        "firstName": rec.first_name,
                        "middleName": rec.middle_name,
                        "lastSurname": rec.last_name,
                        "electronicMails": [
                            {
                                "electronicMailAddress": rec.email,
                                "electronicMailTypeDescriptor": _desc("ElectronicMailTypeDescriptor", "Work"),
                            }
                        ]
                        if rec.email
                        else [],
                    }
                ),
            )
            out["staffEducationOrganizationAssignmentAssociations"].append(
                _clean(
                    {
                        "staffReference": {"staffUniqueId": rec.staff_id},
                        "educationOrganizationReference": {"educationOrganizationId": rec.location_id},
                        "staffClassificationDescriptor": _desc(
                            "StaffClassificationDescriptor",
                            d.STAFF_CLASSIFICATION_TO_EDFI.get(rec.role, "Other"),
                        ),
                        "beginDate": _iso(rec.assignment_start),
                        "endDate": _iso(rec.assignment_end),
                        "_ext": {
                            "steward": {
                                "schoolYears": [rec.school_year],
                                "certificationNumber": rec.certification_number,
                                "role": rec.role,
                            }
                        },
                    }
                )
            )
        elif isinstance(rec, r.StaffSchedule):
            ref = self._section_ref(
                rec.school_year, rec.district_code, rec.location_id, rec.course_id, rec.section_id, rec.term
            )
            self._session(rec.location_id, rec.school_year, rec.term, rec.start_date, rec.end_date)
            out["staffSectionAssociations"].append(
                _clean(
                    {
                        "staffReference": {"staffUniqueId": rec.staff_id},
                        "sectionReference": ref,
                        "classroomPositionDescriptor": _desc(
                            "ClassroomPositionDescriptor",
                            d.CLASSROOM_POSITION_TO_EDFI.get(rec.role, rec.role),
                        ),
                        "beginDate": rec.start_date.isoformat(),
                        "endDate": _iso(rec.end_date),
                        "_ext": {"steward": {"districtCode": rec.district_code, "role": rec.role}},
                    }
                )
            )
        elif isinstance(rec, r.Guardian):
            self._contacts.setdefault(
                rec.guardian_id,
                _clean(
                    {
                        "contactUniqueId": rec.guardian_id,
                        "firstName": rec.first_name,
                        "lastSurname": rec.last_name,
                        "electronicMails": [
                            {
                                "electronicMailAddress": rec.email,
                                "electronicMailTypeDescriptor": _desc(
                                    "ElectronicMailTypeDescriptor", "Home/Personal"
                                ),
                            }
                        ]
                        if rec.email
                        else [],
                    }
                ),
            )
            out["studentContactAssociations"].append(
                _clean(
                    {
                        "studentReference": {"studentUniqueId": rec.student_id},
                        "contactReference": {"contactUniqueId": rec.guardian_id},
                        "relationDescriptor": _desc(
                            "RelationDescriptor", d.RELATION_TO_EDFI.get(rec.relationship, "Other")
                        ),
                        "contactRestrictions": "Restricted: no access to records" if rec.restricted else "",
                        "_ext": {
                            "steward": _clean(
                                {
                                    "districtCode": rec.district_code,
                                    "stateId": rec.state_id,
                                    "relationship": rec.relationship,
                                    "startDate": _iso(rec.start_date),
                                    "endDate": _iso(rec.end_date),
                                }
                            )
                        },
                    }
                )
            )
        elif isinstance(rec, r.ProgramParticipation):
            resource, program_type = d.PROGRAM_TO_EDFI.get(
                rec.program_code, ("studentProgramAssociations", f"CEDARS program {rec.program_code}")
            )
            out[resource].append(
                _clean(
                    {
                        "studentReference": {"studentUniqueId": rec.student_id},
                        "programReference": {
                            "educationOrganizationId": rec.district_code,
                            "programName": program_type,
                            "programTypeDescriptor": _desc("ProgramTypeDescriptor", program_type),
                        },
                        "educationOrganizationReference": {"educationOrganizationId": rec.district_code},
                        "beginDate": rec.start_date.isoformat(),
                        "endDate": _iso(rec.exit_date),
                        "_ext": {
                            "steward": {
                                "programCode": rec.program_code,
                                "schoolYear": rec.school_year,
                                "locationId": rec.location_id,
                                "stateId": rec.state_id,
                                "exitReason": rec.exit_reason,
                                "qualificationCode": rec.qualification_code,
                            }
                        },
                    }
                )
            )
        elif isinstance(rec, r.Absence):
            out["studentSchoolAttendanceEvents"].append(
                {
                    "studentReference": {"studentUniqueId": rec.student_id},
                    "schoolReference": {"schoolId": rec.location_id},
                    "eventDate": rec.absence_date.isoformat(),
                    "attendanceEventCategoryDescriptor": _desc(
                        "AttendanceEventCategoryDescriptor",
                        "Excused Absence" if rec.excused else "Unexcused Absence",
                    ),
                    "eventDuration": str(rec.amount),
                    "_ext": {
                        "steward": {
                            "schoolYear": rec.school_year,
                            "districtCode": rec.district_code,
                            "stateId": rec.state_id,
                        }
                    },
                }
            )
            self._school(rec.district_code, rec.location_id)
        elif isinstance(rec, r.DisciplineAction):
            self._school(rec.district_code, rec.location_id)
            incident = self._incidents.setdefault(
                (rec.incident_id, rec.location_id),
                {
                    "incidentIdentifier": rec.incident_id,
                    "schoolReference": {"schoolId": rec.location_id},
                    "incidentDate": rec.incident_date.isoformat(),
                    "behaviors": [],
                },
            )
            behavior = _desc(
                "BehaviorDescriptor", d.BEHAVIOR_TO_EDFI.get(rec.behavior_code, rec.behavior_code)
            )
            if rec.behavior_code and {"behaviorDescriptor": behavior} not in incident["behaviors"]:
                incident["behaviors"].append({"behaviorDescriptor": behavior})
            out["disciplineActions"].append(
                _clean(
                    {
                        "disciplineActionIdentifier": f"{rec.incident_id}-{rec.action_date.isoformat()}",
                        "disciplineDate": rec.action_date.isoformat(),
                        "studentReference": {"studentUniqueId": rec.student_id},
                        "disciplines": [
                            {
                                "disciplineDescriptor": _desc(
                                    "DisciplineDescriptor",
                                    d.DISCIPLINE_TO_EDFI.get(rec.action_code, rec.action_code),
                                )
                            }
                        ],
                        "actualDisciplineActionLength": str(rec.action_days),
                        "responsibilitySchoolReference": {"schoolId": rec.location_id},
                        "studentDisciplineIncidentBehaviorAssociations": [
                            {
                                "studentDisciplineIncidentBehaviorAssociationReference": {
                                    "studentUniqueId": rec.student_id,
                                    "incidentIdentifier": rec.incident_id,
                                    "schoolId": rec.location_id,
                                    "behaviorDescriptor": behavior,
                                }
                            }
                        ],
                        "_ext": {
                            "steward": {
                                "schoolYear": rec.school_year,
                                "districtCode": rec.district_code,
                                "stateId": rec.state_id,
                                "actionCode": rec.action_code,
                                "behaviorCode": rec.behavior_code,
                                "weaponCode": rec.weapon_code,
                                "incidentDate": rec.incident_date.isoformat(),
                                "incidentId": rec.incident_id,
                            }
                        },
                    }
                )
            )
        elif isinstance(rec, r.AssessmentResult):
            self._assessments.setdefault(
                rec.assessment,
                {
                    "assessmentIdentifier": rec.assessment,
                    "namespace": "uri://steward",
                    "assessmentTitle": rec.assessment,
                    "academicSubjects": [
                        {
                            "academicSubjectDescriptor": _desc(
                                "AcademicSubjectDescriptor", d.SUBJECT_TO_EDFI.get(rec.subject, rec.subject)
                            )
                        }
                    ],
                },
            )
            out["studentAssessments"].append(
                {
                    "studentAssessmentIdentifier": "-".join(
                        (rec.student_id, rec.assessment, rec.test_date.isoformat())
                    ),
                    "assessmentReference": {
                        "assessmentIdentifier": rec.assessment,
                        "namespace": "uri://steward",
                    },
                    "studentReference": {"studentUniqueId": rec.student_id},
                    "administrationDate": rec.test_date.isoformat(),
                    "whenAssessedGradeLevelDescriptor": _desc(
                        "GradeLevelDescriptor", d.GRADE_TO_EDFI.get(rec.grade_tested, "")
                    ),
                    "scoreResults": [
                        {
                            "assessmentReportingMethodDescriptor": _desc(
                                "AssessmentReportingMethodDescriptor", "Scale score"
                            ),
                            "result": str(rec.scale_score),
                            "resultDatatypeTypeDescriptor": _desc("ResultDatatypeTypeDescriptor", "Integer"),
                        }
                    ],
                    "performanceLevels": [
                        {
                            "performanceLevelDescriptor": _desc(
                                "PerformanceLevelDescriptor",
                                d.PERFORMANCE_LEVEL_TO_EDFI[rec.performance_level],
                            )
                            if rec.performance_level in d.PERFORMANCE_LEVEL_TO_EDFI
                            else "",
                            "assessmentReportingMethodDescriptor": _desc(
                                "AssessmentReportingMethodDescriptor", "Scale score"
                            ),
                        }
                    ],
                    "reportedSchoolReference": {"schoolId": rec.location_id},
                    "_ext": {
                        "steward": {
                            "schoolYear": rec.school_year,
                            "districtCode": rec.district_code,
                            "stateId": rec.state_id,
                            "subject": rec.subject,
                            "gradeTested": rec.grade_tested,
                            "performanceLevel": rec.performance_level,
                        }
                    },
                }
            )
        elif isinstance(rec, r.GradeHistory):
            out["courseTranscripts"].append(
                {
                    "studentAcademicRecordReference": {
                        "studentUniqueId": rec.student_id,
                        "educationOrganizationId": rec.location_id,
                        "schoolYear": rec.school_year,
                        "termDescriptor": _desc("TermDescriptor", d.TERM_TO_EDFI.get(rec.term, "Other")),
                    },
                    "courseReference": {
                        "courseCode": rec.course_id,
                        "educationOrganizationId": rec.location_id,
                    },
                    "courseTitle": rec.course_title,
                    "finalLetterGradeEarned": rec.letter_grade,
                    "attemptedCredits": str(rec.credits_attempted),
                    "earnedCredits": str(rec.credits_earned),
                    "_ext": {
                        "steward": {
                            "districtCode": rec.district_code,
                            "stateId": rec.state_id,
                            "term": rec.term,
                            "stateCourseCode": rec.state_course_code,
                            "gradeLevel": rec.grade_level,
                        }
                    },
                }
            )

    def build(self) -> dict[str, list[Body]]:
        out = self.out
        for race in self._races:
            student = self._students.get(race.student_id)
            if student is None:
                self.report.drop("StudentRace", None, "the student has no DistrictStudent record")
                continue
            student["_ext"]["steward"]["races"].append(
                {
                    "schoolYear": race.school_year,
                    "districtCode": race.district_code,
                    "stateId": race.state_id,
                    "raceCode": race.race_code,
                    "method": race.collection_method,
                }
            )
        for ssa in self._school_ssas:
            out["studentSchoolAssociations"].append(
                _clean(
                    {
                        "studentReference": {"studentUniqueId": ssa.student_id},
                        "schoolReference": {"schoolId": ssa.location_id},
                        "entryDate": ssa.entry_date.isoformat(),
                        "exitWithdrawDate": _iso(ssa.exit_date),
                        "entryGradeLevelDescriptor": _desc(
                            "GradeLevelDescriptor",
                            d.GRADE_TO_EDFI.get(self._grade.get(ssa.student_id, ""), ""),
                        ),
                        "primarySchool": ssa.primary_school,
                        "schoolYearTypeReference": {"schoolYear": ssa.school_year},
                        "_ext": {
                            "steward": {
                                "districtCode": ssa.district_code,
                                "stateId": ssa.state_id,
                                "withdrawalCode": ssa.withdrawal_code,
                                "schoolChoiceCode": ssa.school_choice_code,
                            }
                        },
                    }
                )
            )
        out["localEducationAgencies"] = list(self._leas.values())
        out["schools"] = list(self._schools.values())
        for (school, year, name), days in sorted(self._sessions.items()):
            is_year = name == f"{year - 1}-{year}"
            begin = min(days) if days else date(year - 1, 9, 1)
            end = max(days) if days else date(year, 8, 31)
            term = "Year Round" if is_year else d.TERM_TO_EDFI.get(name, "Other")
            out["sessions"].append(
                {
                    "schoolReference": {"schoolId": school},
                    "schoolYearTypeReference": {"schoolYear": year},
                    "sessionName": name,
                    "beginDate": begin.isoformat(),
                    "endDate": end.isoformat(),
                    "termDescriptor": _desc("TermDescriptor", term),
                    "totalInstructionalDays": 0,
                }
            )
        out["courses"] = list(self._courses.values())
        out["students"] = list(self._students.values())
        out["studentEducationOrganizationAssociations"] = [_clean(x) for x in self._seoa.values()]
        out["staffs"] = list(self._staff.values())
        out["contacts"] = list(self._contacts.values())
        out["disciplineIncidents"] = list(self._incidents.values())
        out["assessments"] = list(self._assessments.values())
        return {k: v for k, v in out.items() if v}

    def close(self) -> None:
        resources = self.build()
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, bodies in sorted(resources.items()):
            with (self.directory / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
                for body in bodies:
                    fh.write(json.dumps(body, sort_keys=True, ensure_ascii=False))
                    fh.write("\n")
            self.report.written[name] += len(bodies)


def _iso(day: date | None) -> str:
    return "" if day is None else day.isoformat()


def _district_spell(rec: r.DistrictStudent) -> dict[str, Any]:
    return {
        "schoolYear": rec.school_year,
        "districtCode": rec.district_code,
        "residentDistrictCode": rec.resident_district_code,
        "stateId": rec.state_id,
        "sex": rec.sex,
        "gradeLevel": rec.grade_level,
        "entryDate": rec.entry_date.isoformat(),
        "exitDate": _iso(rec.exit_date) or None,
        "ethnicityCode": rec.ethnicity_code,
        "disabilityCode": rec.disability_code,
        "primaryLanguage": rec.primary_language,
        "homeLanguage": rec.home_language,
        "ssn": rec.ssn,
        "zipCode": rec.zip_code,
        "homeless": rec.homeless,
        "privateSchoolPartTime": rec.private_school_part_time,
        "homeBasedPartTime": rec.home_based_part_time,
        "f1Visa": rec.f1_visa,
        "fosterCare": rec.foster_care,
        "gradRequirementsYear": rec.grad_requirements_year,
        "expectedGradYear": rec.expected_grad_year,
        "gpa": _num(rec.gpa),
        "creditsAttempted": _num(rec.credits_attempted),
        "creditsEarned": _num(rec.credits_earned),
    }


# ------------------------------------------------------------------------------------------ reading

RESOURCES = (
    "localEducationAgencies",
    "schools",
    "sessions",
    "calendarDates",
    "courses",
    "courseOfferings",
    "sections",
    "students",
    "studentSchoolAssociations",
    "studentEducationOrganizationAssociations",
    "studentSectionAssociations",
    "staffs",
    "staffSchoolAssociations",
    "staffEducationOrganizationAssignmentAssociations",
    "staffSectionAssociations",
    "contacts",
    "studentContactAssociations",
    "studentProgramAssociations",
    "studentSpecialEducationProgramAssociations",
    "studentSection504ProgramAssociations",
    "studentSchoolFoodServiceProgramAssociations",
    "studentLanguageInstructionProgramAssociations",
    "studentTitleIPartAProgramAssociations",
    "studentSchoolAttendanceEvents",
    "studentSectionAttendanceEvents",
    "disciplineIncidents",
    "studentDisciplineIncidentBehaviorAssociations",
    "disciplineActions",
    "assessments",
    "studentAssessments",
    "courseTranscripts",
)


def _bodies(path: Path, report: ConversionReport) -> Iterator[tuple[int, Body]]:
    try:
        if path.suffix == ".jsonl":
            with path.open(encoding="utf-8") as fh:
                for number, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        body = json.loads(line)
                    except json.JSONDecodeError as e:
                        report.issue(path.name, number, None, f"is not JSON: {e.msg}")
                        continue
                    if isinstance(body, dict):
                        yield number, body
                    else:
                        report.issue(path.name, number, None, "is not a JSON object")
        else:
            items = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(items, list):
                report.issue(path.name, None, None, "must hold a JSON array of resources")
                return
            for number, body in enumerate(items, start=1):
                if isinstance(body, dict):
                    yield number, body
                else:
                    report.issue(path.name, number, None, "is not a JSON object")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        report.issue(path.name, None, None, f"cannot be read: {e}")


class _MissingError(ValueError):
    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is required")
        self.field = field


def _req(body: Body, *path: str) -> Any:
    value: Any = body
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if value in (None, ""):
        raise _MissingError(".".join(path))
    return value


def _opt(body: Body, *path: str) -> Any:
    value: Any = body
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _req_day(body: Body, *path: str) -> date:
    day = _day(_req(body, *path))
    if day is None:
        raise _MissingError(".".join(path))
    return day


def _key(ref: Body) -> m.SectionKey:
    return m.SectionKey(
        str(_req(ref, "sectionIdentifier")),
        str(ref.get("localCourseCode", "")),
        str(_req(ref, "schoolId")),
        int(_req(ref, "schoolYear")),
        str(ref.get("sessionName", "")),
    )


def _emails(body: Body, prefer: tuple[str, ...]) -> str:
    mails = [
        (_cv(x.get("electronicMailTypeDescriptor")), str(x.get("electronicMailAddress", "")))
        for x in body.get("electronicMails", [])
        if isinstance(x, dict)
    ]
    for kind in prefer:
        for t, addr in mails:
            if t == kind and addr:
                return addr
    return next((a for _, a in mails if a), "")


def _state_id(body: Body) -> str:
    for code in body.get("studentIdentificationCodes", []):
        if (
            isinstance(code, dict)
            and _cv(code.get("studentIdentificationSystemDescriptor")) in d.STATE_ID_SYSTEMS
        ):
            return str(code.get("identificationCode", ""))
    return ""


def _read(name: str, body: Body, where: m.Where, data: m.EdFiData) -> None:
    ext = _ext(body)
    if name == "localEducationAgencies":
        data.edorgs.append(
            m.EdOrg(
                "lea",
                str(_req(body, "localEducationAgencyId")),
                str(body.get("nameOfInstitution", "")),
                str(_opt(body, "stateEducationAgencyReference", "stateEducationAgencyId") or "") or None,
            )
        )
    elif name == "schools":
        data.edorgs.append(
            m.EdOrg(
                "school",
                str(_req(body, "schoolId")),
                str(body.get("nameOfInstitution", "")),
                str(_opt(body, "localEducationAgencyReference", "localEducationAgencyId") or "") or None,
                ext=ext,
            )
        )
    elif name == "sessions":
        data.sessions.append(
            m.Session(
                str(_req(body, "schoolReference", "schoolId")),
                int(_req(body, "schoolYearTypeReference", "schoolYear")),
                str(_req(body, "sessionName")),
                _req_day(body, "beginDate"),
                _req_day(body, "endDate"),
                _cv(body.get("termDescriptor")),
            )
        )
    elif name == "calendarDates":
        data.calendar.append(
            m.CalendarDay(
                str(_req(body, "calendarReference", "schoolId")),
                int(_req(body, "calendarReference", "schoolYear")),
                _req_day(body, "date"),
                tuple(_cv(e.get("calendarEventDescriptor")) for e in body.get("calendarEvents", [])),
            )
        )
    elif name == "courses":
        state = next(
            (
                str(c.get("identificationCode", ""))
                for c in body.get("identificationCodes", [])
                if _cv(c.get("courseIdentificationSystemDescriptor")) == "State course code"
            ),
            "",
        )
        subjects = body.get("academicSubjectDescriptor", "")
        data.courses.append(
            m.Course(
                str(_req(body, "educationOrganizationReference", "educationOrganizationId")),
                str(_req(body, "courseCode")),
                str(body.get("courseTitle", "")),
                _cv(subjects),
                state,
                ext=ext,
            )
        )
    elif name == "courseOfferings":
        data.offerings.append(
            m.CourseOffering(
                str(_req(body, "localCourseCode")),
                str(_req(body, "schoolReference", "schoolId")),
                int(_req(body, "sessionReference", "schoolYear")),
                str(_req(body, "sessionReference", "sessionName")),
                str(_req(body, "courseReference", "courseCode")),
                str(_req(body, "courseReference", "educationOrganizationId")),
                str(body.get("localCourseTitle", "")),
            )
        )
    elif name == "sections":
        ref = dict(_req(body, "courseOfferingReference"))
        ref["sectionIdentifier"] = _req(body, "sectionIdentifier")
        data.sections.append(m.Section(_key(ref)))
    elif name == "students":
        data.students.append(
            m.Student(
                str(_req(body, "studentUniqueId")),
                str(body.get("firstName", "")),
                str(body.get("middleName", "")),
                str(body.get("lastSurname", "")),
                _day(body.get("birthDate")),
                where,
                birth_country=_cv(body.get("birthCountryDescriptor")),
                ext=ext,
            )
        )
    elif name == "studentSchoolAssociations":
        year = _opt(body, "schoolYearTypeReference", "schoolYear")
        data.student_schools.append(
            m.StudentSchool(
                str(_req(body, "studentReference", "studentUniqueId")),
                str(_req(body, "schoolReference", "schoolId")),
                _req_day(body, "entryDate"),
                _day(body.get("exitWithdrawDate")),
                _cv(body.get("entryGradeLevelDescriptor")),
                body.get("primarySchool") if isinstance(body.get("primarySchool"), bool) else None,
                int(year) if year else None,
                where,
                ext=ext,
            )
        )
    elif name == "studentEducationOrganizationAssociations":
        hispanic = body.get("hispanicLatinoEthnicity")
        data.student_edorgs.append(
            m.StudentEdOrg(
                str(_req(body, "studentReference", "studentUniqueId")),
                str(_req(body, "educationOrganizationReference", "educationOrganizationId")),
                _cv(body.get("sexDescriptor")),
                tuple(_cv(x.get("raceDescriptor")) for x in body.get("races", []) if isinstance(x, dict)),
                hispanic if isinstance(hispanic, bool) else None,
                _state_id(body),
            )
        )
    elif name == "studentSectionAssociations":
        data.student_sections.append(
            m.StudentSection(
                str(_req(body, "studentReference", "studentUniqueId")),
                _key(_req(body, "sectionReference")),
                _day(body.get("beginDate")),
                _day(body.get("endDate")),
                where,
                ext=ext,
            )
        )
    elif name == "staffs":
        data.staff.append(
            m.Staff(
                str(_req(body, "staffUniqueId")),
                str(body.get("firstName", "")),
                str(body.get("middleName", "")),
                str(body.get("lastSurname", "")),
                _emails(body, ("Work",)),
            )
        )
    elif name == "staffSchoolAssociations":
        data.staff_schools.append(
            m.StaffSchool(
                str(_req(body, "staffReference", "staffUniqueId")),
                str(_req(body, "schoolReference", "schoolId")),
            )
        )
    elif name == "staffEducationOrganizationAssignmentAssociations":
        data.staff_assignments.append(
            m.StaffAssignment(
                str(_req(body, "staffReference", "staffUniqueId")),
                str(_req(body, "educationOrganizationReference", "educationOrganizationId")),
                _cv(body.get("staffClassificationDescriptor")),
                _day(body.get("beginDate")),
                _day(body.get("endDate")),
                ext=ext,
            )
        )
    elif name == "staffSectionAssociations":
        data.staff_sections.append(
            m.StaffSection(
                str(_req(body, "staffReference", "staffUniqueId")),
                _key(_req(body, "sectionReference")),
                _cv(body.get("classroomPositionDescriptor")),
                _day(body.get("beginDate")),
                _day(body.get("endDate")),
                where,
                ext=ext,
            )
        )
    elif name == "contacts":
        data.contacts.append(
            m.Contact(
                str(_req(body, "contactUniqueId")),
                str(body.get("firstName", "")),
                str(body.get("lastSurname", "")),
                _emails(body, ("Home/Personal", "Other", "Work")),
            )
        )
    elif name == "studentContactAssociations":
        data.student_contacts.append(
            m.StudentContact(
                str(_req(body, "studentReference", "studentUniqueId")),
                str(_req(body, "contactReference", "contactUniqueId")),
                None,
                _cv(body.get("relationDescriptor")),
                bool(body.get("contactRestrictions")),
                where,
                ext=ext,
            )
        )
    elif name.startswith("student") and name.endswith("ProgramAssociations"):
        kind = name[0].upper() + name[1:-1]
        data.programs.append(
            m.ProgramAssociation(
                str(_req(body, "studentReference", "studentUniqueId")),
                kind,
                str(_opt(body, "programReference", "programName") or ""),
                _cv(_opt(body, "programReference", "programTypeDescriptor")),
                str(_req(body, "educationOrganizationReference", "educationOrganizationId")),
                _req_day(body, "beginDate"),
                _day(body.get("endDate")),
                _cv(body.get("reasonExitedDescriptor")),
                where,
                ext=ext,
            )
        )
    elif name in ("studentSchoolAttendanceEvents", "studentSectionAttendanceEvents"):
        section = name == "studentSectionAttendanceEvents"
        school = (
            _opt(body, "sectionReference", "schoolId")
            if section
            else _opt(body, "schoolReference", "schoolId")
        )
        data.attendance.append(
            m.AttendanceEvent(
                str(_req(body, "studentReference", "studentUniqueId")),
                str(school or ""),
                _req_day(body, "eventDate"),
                _cv(body.get("attendanceEventCategoryDescriptor")),
                _dec(body.get("eventDuration")),
                where,
                section,
                ext=ext,
            )
        )
    elif name == "disciplineIncidents":
        data.incidents.append(
            m.DisciplineIncident(
                str(_req(body, "incidentIdentifier")),
                str(_req(body, "schoolReference", "schoolId")),
                _req_day(body, "incidentDate"),
                tuple(
                    _cv(b.get("behaviorDescriptor")) for b in body.get("behaviors", []) if isinstance(b, dict)
                ),
            )
        )
    elif name == "studentDisciplineIncidentBehaviorAssociations":
        data.behaviors.append(
            m.IncidentBehavior(
                str(_req(body, "studentReference", "studentUniqueId")),
                str(_req(body, "disciplineIncidentReference", "incidentIdentifier")),
                str(_req(body, "disciplineIncidentReference", "schoolId")),
                None,
                _cv(body.get("behaviorDescriptor")),
                tuple(_cv(w.get("weaponDescriptor")) for w in body.get("weapons", []) if isinstance(w, dict)),
            )
        )
    elif name == "disciplineActions":
        incidents = []
        for link in body.get("studentDisciplineIncidentBehaviorAssociations", []):
            ref = (
                link.get("studentDisciplineIncidentBehaviorAssociationReference", {})
                if isinstance(link, dict)
                else {}
            )
            incidents.append(
                (
                    str(ref.get("incidentIdentifier", "")),
                    str(ref.get("schoolId", "")),
                    _cv(ref.get("behaviorDescriptor")),
                )
            )
        data.actions.append(
            m.DisciplineAction(
                str(_req(body, "disciplineActionIdentifier")),
                str(_req(body, "studentReference", "studentUniqueId")),
                _req_day(body, "disciplineDate"),
                tuple(
                    _cv(x.get("disciplineDescriptor"))
                    for x in body.get("disciplines", [])
                    if isinstance(x, dict)
                ),
                _dec(body.get("disciplineActionLength")),
                _dec(body.get("actualDisciplineActionLength")),
                str(_req(body, "responsibilitySchoolReference", "schoolId")),
                tuple(incidents),
                where,
                ext=ext,
            )
        )
    elif name == "assessments":
        data.assessments.append(
            m.Assessment(
                str(_req(body, "assessmentIdentifier")),
                str(body.get("namespace", "")),
                str(body.get("assessmentTitle", "")),
                tuple(_cv(s.get("academicSubjectDescriptor")) for s in body.get("academicSubjects", [])),
            )
        )
    elif name == "studentAssessments":
        data.student_assessments.append(
            m.StudentAssessment(
                str(_req(body, "studentReference", "studentUniqueId")),
                str(_req(body, "assessmentReference", "assessmentIdentifier")),
                str(_opt(body, "assessmentReference", "namespace") or ""),
                _req_day(body, "administrationDate"),
                _cv(body.get("whenAssessedGradeLevelDescriptor")),
                tuple(
                    (_cv(s.get("assessmentReportingMethodDescriptor")), str(s.get("result", "")))
                    for s in body.get("scoreResults", [])
                ),
                tuple(_cv(p.get("performanceLevelDescriptor")) for p in body.get("performanceLevels", [])),
                str(_opt(body, "reportedSchoolReference", "schoolId") or ""),
                where,
                ext=ext,
            )
        )
    elif name == "courseTranscripts":
        data.transcripts.append(
            m.Transcript(
                str(_req(body, "studentAcademicRecordReference", "studentUniqueId")),
                str(_req(body, "studentAcademicRecordReference", "educationOrganizationId")),
                int(_req(body, "studentAcademicRecordReference", "schoolYear")),
                _cv(_opt(body, "studentAcademicRecordReference", "termDescriptor")),
                str(_req(body, "courseReference", "courseCode")),
                str(body.get("courseTitle", "")),
                str(body.get("finalLetterGradeEarned", "")),
                _dec(body.get("attemptedCredits")),
                _dec(body.get("earnedCredits")),
                ext=ext,
            )
        )


def read_resources(
    directory: Path, report: ConversionReport | None = None
) -> tuple[m.EdFiData, ConversionReport]:
    """Read every known resource file in ``directory``; unknown files are reported, not read."""
    report = report if report is not None else ConversionReport()
    data = m.EdFiData()
    directory = Path(directory)
    if not directory.is_dir():
        report.issue(str(directory), None, None, "is not a directory")
        return data, report
    files = {p.stem: p for p in sorted(directory.iterdir()) if p.suffix in (".json", ".jsonl")}
    for stem in files:
        if stem not in RESOURCES:
            report.issue(
                files[stem].name, None, None, "not read: not a resource Steward knows", Severity.WARNING
            )
    for name in RESOURCES:
        path = files.get(name)
        if path is None:
            continue
        for number, body in _bodies(path, report):
            report.read[name] += 1
            try:
                _read(name, body, (path.name, number), data)
            except _MissingError as missing:
                report.issue(path.name, number, missing.field, "is required")
            except (TypeError, ValueError, AttributeError) as e:
                report.issue(path.name, number, None, f"cannot be read: {e}")
    return data, report
