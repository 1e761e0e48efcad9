/* The checks the server makes, run on the phone first so the worker fixes a mistake where she is.
 * The server checks everything again (registry/validation.py child_clean, registry/services.py
 * _guardian_clean, cases/services.py _check_intake): these mirror them, they do not replace them. */
(function (global) {
  "use strict";

  var CHILD_AGE_LIMIT = 16; // Law on Children 2016, Art. 1: a child is a person under 16.
  var SEXES = ["M", "F"];

  function parseDate(value) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
    if (!m) return null;
    var d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    return d.getUTCMonth() === +m[2] - 1 ? {y: +m[1], m: +m[2], d: +m[3]} : null;
  }

  function cmp(a, b) { return (a.y - b.y) || (a.m - b.m) || (a.d - b.d); }

  function ageOn(birth, day) {
    return day.y - birth.y - ((day.m < birth.m || (day.m === birth.m && day.d < birth.d)) ? 1 : 0);
  }

  function fmt(day) { return ("0" + day.d).slice(-2) + "/" + ("0" + day.m).slice(-2) + "/" + day.y; }

  function today() {
    var now = new Date();
    return {y: now.getFullYear(), m: now.getMonth() + 1, d: now.getDate()};
  }

  // The 12-digit personal identification number against birth year and sex (digit 4: century and
  // sex — 1900s 0/1, 2000s 2/3; digits 5–6: the year).
  function personalIdProblem(pid, birth, sex, t) {
    var centuryDigit = +pid[3];
    var century = 1900 + 100 * Math.floor(centuryDigit / 2);
    var idSex = centuryDigit % 2 === 0 ? "M" : "F";
    if (birth) {
      var year = century + +pid.slice(4, 6);
      if (year !== birth.y) return t("v_id_year", {y: year, b: birth.y});
    }
    if (sex && sex !== idSex) return t("v_id_sex", {s: t(idSex === "M" ? "sex_M" : "sex_F")});
    return null;
  }

  function child(data, codes, t, day) {
    var errors = {};
    day = day || today();
    var name = (data.full_name || "").normalize("NFC").trim().replace(/\s+/g, " ");
    if (!name) errors.full_name = t("v_name_required");
    // the server's rule (core.text.text_problem): letters with their marks, spaces, apostrophes, hyphens
    else if (name.length > 150 || /[^\p{L}\p{M} '\u2019-]/u.test(name)) errors.full_name = t("v_name_invalid", {v: name.slice(0, 60)});
    var birth = parseDate(data.birth_date);
    if (!data.birth_date) errors.birth_date = t("v_birth_required");
    else if (!birth) errors.birth_date = t("v_date_invalid", {v: data.birth_date});
    else if (cmp(birth, day) > 0) errors.birth_date = t("v_birth_future", {d: fmt(birth)});
    else if (ageOn(birth, day) >= CHILD_AGE_LIMIT) errors.birth_date = t("v_too_old", {a: ageOn(birth, day), d: fmt(day)});
    if (SEXES.indexOf(data.sex) < 0) errors.sex = t("v_sex");
    var pid = (data.personal_id || "").replace(/\s/g, "");
    if (pid) {
      if (!/^\d{12}$/.test(pid)) errors.personal_id = t("v_id_format", {v: pid.slice(0, 20)});
      else {
        var problem = personalIdProblem(pid, birth, SEXES.indexOf(data.sex) >= 0 ? data.sex : null, t);
        if (problem) errors.personal_id = problem;
      }
    }
    if (data.ethnicity && !codes.ethnicity.some(function (e) { return e[0] === data.ethnicity; })) {
      errors.ethnicity = t("v_choice");
    }
    Object.assign(errors, schooling(data, birth, t, day));
    return errors;
  }

  function schooling(data, birth, t, day) {
    var errors = {};
    day = day || today();
    if (data.schooling === "dropped_out" && data.dropout_date) {
      var out = parseDate(data.dropout_date);
      if (!out || cmp(out, day) > 0 || (birth && cmp(out, birth) < 0)) errors.dropout_date = t("v_dropout");
    }
    return errors;
  }

  // Vietnamese numbers: 10 digits from 0 (mobile), or +84 followed by 9; landlines 10–11 digits.
  function guardian(data, t) {
    var errors = {};
    var name = (data.full_name || "").trim();
    if (!name) errors.full_name = t("v_guardian_required");
    else if (name.length > 150) errors.full_name = t("v_guardian_long");
    if (!data.relationship) errors.relationship = t("v_relationship");
    var phone = (data.phone || "").replace(/[ .\-()]/g, "");
    if (phone && !(/^\d{9,11}$/.test(phone) || /^\+\d{10,13}$/.test(phone))) errors.phone = t("v_phone", {v: phone});
    return errors;
  }

  function intake(data, t, now) {
    var errors = {};
    if (!(data.place || "").trim()) errors.place = t("v_place");
    if (!(data.summary || "").trim()) errors.summary = t("v_summary");
    if (!data.reporter_anonymous && !(data.reporter_name || "").trim()) errors.reporter_name = t("v_reporter");
    var at = Date.parse(data.received_at || "");
    if (!data.received_at || isNaN(at)) errors.received_at = t("v_received_at");
    else if (at > (now || Date.now()) + 5 * 60000) errors.received_at = t("v_received_future");
    return errors;
  }

  function required(value, key, errors, t) {
    if (!value || (typeof value === "string" && !value.trim())) errors[key] = t("v_required");
  }

  global.FieldValidate = {child: child, schooling: schooling, guardian: guardian, intake: intake,
    required: required, parseDate: parseDate, today: today};
})(self);
