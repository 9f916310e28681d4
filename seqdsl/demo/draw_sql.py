"""Demo data, SQL part one: macros, and the working tables `w_<name>` it draws.

Every draw is `u(purpose, a, b)`, a uniform number in [0, 1) that DuckDB's `hash()`
makes from the seed, a purpose and one or two keys; purposes are distinct strings,
so no two draws are correlated. Values from the spec come in as DuckDB variables
(`var('name')`), never as SQL text.
"""

MACROS = """
CREATE MACRO var(name) AS getvariable(name);
CREATE MACRO u(purpose, a, b := 0) AS
    (hash(var('seed'), purpose, a, b) >> 11)::DOUBLE / 9007199254740992.0;
CREATE MACRO gauss(purpose, a, b := 0) AS
    sqrt(-2 * ln(1 - u(purpose, a, b))) * cos(2 * pi() * u(purpose || '~', a, b));
CREATE MACRO pick(vals, x) AS vals[1 + floor(x * len(vals))::BIGINT];
CREATE MACRO ago(days) AS to_timestamp(var('as_of_s') - floor(days * 86400));
CREATE MACRO today() AS var('as_of')::DATE;
CREATE MACRO later(t, seconds) AS to_timestamp(epoch(t) + floor(seconds));
-- an exponential age with mean `tau` days, truncated to at most `cap` days
CREATE MACRO recent(x, tau, cap) AS -tau * ln(1 - x * (1 - exp(-cap / tau)));
CREATE MACRO quarterly(text, t) AS
    replace(text, '{quarter}', year(t) || '-q' || quarter(t));
"""

COMPANIES = """
CREATE TABLE w_companies AS
WITH drawn AS (
    SELECT range + 1 AS id,
        -- a prime stride visits every word pair before any repeats
        (range * 7919) % var('name_space') AS slot,
        range // var('name_space') AS lap,
        pick(var('country_pick'), u('co.country', id)) AS country_idx,
        greatest(1, round(exp(ln(40) + 1.6 * gauss('co.size', id))))::BIGINT
            AS size
    FROM range(var('n_companies'))
), named AS (
    SELECT *,
        var('company_words')[1 + slot % len(var('company_words'))] AS word,
        var('company_kinds')[1 + slot // len(var('company_words'))] AS kind
    FROM drawn
)
SELECT id, country_idx,
    word || ' ' || kind AS name,
    lower(word || kind) || CASE WHEN lap > 0 THEN lap::VARCHAR ELSE '' END
        || CASE WHEN u('co.tld', id) < 0.6 THEN '.com'
           ELSE var('country_tlds')[country_idx] END AS domain,
    CASE WHEN u('co.size_known', id) < 0.95 THEN size END AS numberofemployees,
    pick(var('industries'), u('co.industry', id)) AS industry,
    CASE WHEN u('co.revenue_known', id) < 0.85 THEN
        (round(size * exp(ln(150000) + 0.5 * gauss('co.revenue', id)), -3))::BIGINT
    END AS annualrevenue
FROM named ORDER BY id
"""

CONTACTS_DRAWN = """
CREATE TABLE w_contacts AS
WITH drawn AS (
    SELECT range + 1 AS id,
        CASE WHEN var('n_companies') > 0 AND u('ct.has_company', id) < 0.78
        THEN 1 + floor(var('n_companies') * pow(u('ct.company', id), 1.6))
        END::BIGINT AS company_id,
        floor(u('ct.second_company', id) * (var('n_companies') - 1))::BIGINT
            AS second_offset,
        1095 * pow(u('ct.created', id), 1.3) AS age_days,
        pick(var('stage_pick'), u('ct.stage', id)) AS stage_idx,
        pick(var('email_kind_pick'), u('ct.email_kind', id)) AS email_kind,
        floor(len(var('first_names')) * u('ct.first', id))::INT AS first_idx,
        floor(len(var('last_names')) * u('ct.last', id))::INT AS last_idx,
        pick(var('free_mail_pick'), u('ct.mail', id)) AS mail_idx,
        u('ct.optout', id) < 0.04 AS optout,
        u('ct.bad', id) AS bad_draw,
        -- log-normal activity with the asked mean: median about a third of it
        CASE WHEN var('mean_events') > 0 THEN floor(
            exp(ln(var('mean_events')) - 1.125 + 1.5 * gauss('ct.activity', id))
            + u('ct.activity_round', id))
        ELSE 0 END::BIGINT AS n_events
    FROM range(var('n_contacts'))
)
SELECT * EXCLUDE (second_offset, bad_draw),
    var('first_names')[first_idx + 1] AS firstname,
    var('last_names')[last_idx + 1] AS lastname,
    CASE WHEN company_id IS NOT NULL AND var('n_companies') > 1
        AND u('ct.has_second', id) < 0.03
    THEN (company_id + second_offset) % var('n_companies') + 1
    END AS second_company_id,
    CASE email_kind WHEN 'unknown' THEN false WHEN 'invalid' THEN bad_draw < 0.6
        ELSE bad_draw < 0.015 END AS bad_address
FROM drawn ORDER BY id
"""

DEALS = """
CREATE TABLE w_deals AS
WITH drawn AS (
    SELECT range + 1 AS id,
        CASE WHEN var('n_companies') > 0
        THEN 1 + floor(var('n_companies') * pow(u('dl.company', id), 1.3))
        END::BIGINT AS company_id,
        pick(var('deal_stage_pick'), u('dl.stage', id)) AS dealstage,
        730 * pow(u('dl.created', id), 1.4) AS age_days,
        u('dl.pipeline', id) < 0.15 AS renewal
    FROM range(var('n_deals'))
), dated AS (
    SELECT *, ago(age_days) AS createdate,
        CASE WHEN dealstage IN ('closedwon', 'closedlost')
        THEN least(ago(age_days)::DATE + (7 + floor(120 * u('dl.close', id)))::INT,
                   today())
        ELSE today() + (floor(130 * u('dl.close', id)) - 10)::INT END AS closedate
    FROM drawn
)
SELECT d.id, d.company_id, d.dealstage, d.createdate, d.closedate,
    coalesce(c.name, 'Direct') || ' - ' || CASE WHEN renewal
        THEN 'Renewal ' || year(d.closedate)
        ELSE pick(var('deal_kinds'), u('dl.kind', d.id)) END AS dealname,
    CASE WHEN u('dl.amount_known', d.id) < 0.97 THEN greatest(100,
        round(exp(ln(9000) + 1.1 * gauss('dl.amount', d.id)), -2))::BIGINT
    END AS amount,
    CASE WHEN renewal THEN 'renewals' ELSE 'default' END AS pipeline
FROM dated d LEFT JOIN w_companies c ON c.id = d.company_id
ORDER BY d.id
"""

# a deal's contacts are consecutive members of its company, else any contacts
DEAL_CONTACTS = """
CREATE TABLE w_deal_contacts AS
WITH members AS (
    SELECT company_id, list(id ORDER BY id) AS ids
    FROM w_contacts WHERE company_id IS NOT NULL GROUP BY company_id
), pool AS (
    SELECT d.id AS deal_id, m.ids,
        coalesce(len(m.ids), var('n_contacts')) AS size,
        least(1 + floor(3 * pow(u('dl.contacts', d.id), 2)), size)::BIGINT
            AS wanted,
        floor(size * u('dl.first_contact', d.id))::BIGINT AS start
    FROM w_deals d LEFT JOIN members m USING (company_id)
), slots AS (
    SELECT deal_id, ids, size, start, unnest(range(wanted)) AS j FROM pool
)
SELECT deal_id,
    CASE WHEN ids IS NULL THEN (start + j) % size + 1
    ELSE ids[1 + (start + j) % size] END AS contact_id,
    j = 0 AS is_primary
FROM slots ORDER BY deal_id, j
"""

# regular events, a bounce per bad address, an unsubscribe per opt-out, orphans;
# sorted while the rows are narrow numbers, given their text only when written
EVENTS_DRAWN = """
CREATE TABLE w_drawn_events AS
WITH skeleton AS (
    SELECT id AS record_id, unnest(range(n_events)) AS k, NULL::BIGINT AS fixed,
        age_days, email_kind <> 'unknown' AS reachable
    FROM w_contacts
    UNION ALL
    SELECT id, -1, var('bounce'), age_days, true FROM w_contacts WHERE bad_address
    UNION ALL
    SELECT id, -2, var('unsubscribe'), age_days, true FROM w_contacts WHERE optout
    UNION ALL
    SELECT var('n_contacts') + 1 + range, 0, NULL, 1095, true
    FROM range(var('n_orphans'))
)
SELECT record_id, k,
    coalesce(fixed, CASE WHEN reachable
        THEN pick(var('event_pick'), u('ev.type', record_id, k))
        ELSE list_position(var('event_types'), 'page_view') END) AS type_idx,
    var('as_of_s') - floor(86400 * recent(u('ev.age', record_id, k), 35, age_days))
        AS at_s,
    pick(var('page_pick'), u('ev.page', record_id, k)) AS page_idx,
    pick(var('form_pick'), u('ev.form', record_id, k)) AS form_idx,
    u('ev.campaign', record_id, k) AS c
FROM skeleton;
CREATE TABLE w_events AS
SELECT * FROM w_drawn_events ORDER BY at_s, record_id, k;
DROP TABLE w_drawn_events;
"""
