using System.Text;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Tests.Hostile;

/// <summary>One generated request: what to send, and the corpus category it came from.</summary>
public sealed record HostileRequest(string Category, string Method, string Path, byte[]? Body, string? ContentType, IReadOnlyList<(string Name, string Value)> Headers);

/// <summary>
/// Generates the hostile-input corpus for one tenant: malformed, deep, huge and mistyped bodies on
/// every body-taking route (publish bodies of their own), bad ids on every id route, bad headers,
/// queries (paging and the status and eventType filters), keys and methods.
/// Deterministic for a seed, so a failure can be replayed.
/// </summary>
public static class HostileCorpus
{
    private static readonly string[] BadIds =
    [
        "..", "%2e%2e", "..%2f..%2fetc%2fpasswd", "%2F", "%5C..%5C", "' or '1'='1", "PartitionKey%20ge%20''", "0193F1C2-0000-7000-8000-000000000000",
        "{0193f1c2-0000-7000-8000-000000000000}", "0193f1c2000070008000000000000000", "0193f1c2-0000-7000-8000-00000000000", "0193f1c2-0000-7000-8000-0000000000000",
        "%00", "%ff%fe", "%e2%80%ae", "%F0%9F%92%A9", new string('a', 2000), "null", "undefined", "-1", "0", "9999999999999999999999", "%20",
        "0193f1c2-0000-7000-8000-000000000000%00", "*", "$filter", "..;", "%c0%ae%c0%ae", "a:b", "a#b", "a?b=c",
    ];

    private static readonly string[] ContentTypes =
    [
        "application/json", "text/plain", "application/xml", "application/json; charset=latin1", "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded", "application/json;;;", "application/" + new string('j', 300), "*/*", "application/problem+json",
    ];

    /// <param name="eventId">An event of the application with a delivery to <paramref name="webhookId"/>.</param>
    public static List<HostileRequest> For(string applicationId, string webhookId, string eventId, int seed)
    {
        var random = new Random(seed);
        var requests = new List<HostileRequest>();
        var webhooks = $"/api/v1/applications/{applicationId}/webhooks";
        var webhook = $"{webhooks}/{webhookId}";
        var events = $"/api/v1/applications/{applicationId}/events";
        var deliveries = $"{webhook}/deliveries";
        var bodyRoutes = new (string Method, string Path)[]
        {
            ("POST", webhooks), ("PATCH", webhook), ("POST", webhook + "/rotate-secret"), ("POST", webhook + "/test"),
            ("POST", "/api/v1/applications"), ("POST", "/api/v1/api-keys"), ("POST", events), ("POST", $"{deliveries}/{eventId}/resend"),
            ("POST", webhook + "/recover"),
        };

        foreach (var (method, path) in bodyRoutes)
        {
            foreach (var body in Bodies(random))
            {
                var contentType = random.Next(4) == 0 ? ContentTypes[random.Next(ContentTypes.Length)] : "application/json";
                requests.Add(new("body", method, path, body, contentType, []));
            }

            foreach (var contentType in ContentTypes)
            {
                requests.Add(new("content-type", method, path, "{\"name\":\"x\",\"url\":\"https://a.example.com\"}"u8.ToArray(), contentType, []));
            }
        }

        foreach (var body in PublishBodies(random, webhookId))
        {
            var contentType = random.Next(6) == 0 ? ContentTypes[random.Next(ContentTypes.Length)] : "application/json";
            requests.Add(new("publish-body", "POST", events, body, contentType, []));
        }

        foreach (var body in RecoverBodies())
        {
            requests.Add(new("recover-body", "POST", webhook + "/recover", body, "application/json", []));
        }

        var idRoutes = new Func<string, string>[]
        {
            id => $"{webhooks}/{id}/recover", id => $"/api/v1/applications/{id}/webhooks/{webhookId}/recover", id => $"/api/v1/jobs/{id}",
            id => $"/api/v1/applications/{id}", id => $"/api/v1/applications/{id}/webhooks", id => $"/api/v1/applications/{id}/webhooks/{webhookId}",
            id => $"{webhooks}/{id}", id => $"{webhooks}/{id}/rotate-secret", id => $"{webhooks}/{id}/test", id => $"/api/v1/api-keys/{id}",
            id => $"/api/v1/applications/{id}/events", id => $"{events}/{id}", id => $"{webhooks}/{id}/deliveries", id => $"{deliveries}/{id}/attempts",
            id => $"{deliveries}/{id}/resend", id => $"{webhooks}/{id}/deliveries/{eventId}/attempts", id => $"{webhooks}/{id}/deliveries/{eventId}/resend",
        };
        var methodsFor = new[] { "GET", "POST", "PATCH", "DELETE" };
        foreach (var route in idRoutes)
        {
            foreach (var id in BadIds)
            {
                foreach (var method in methodsFor)
                {
                    // Kestrel refuses an encoded NUL in the path itself, before any application code runs.
                    requests.Add(new(id.Contains("%00", StringComparison.Ordinal) ? "framing-path" : "bad-id", method, route(id), method is "POST" or "PATCH" ? "{}"u8.ToArray() : null, "application/json", []));
                }
            }
        }

        foreach (var ifMatch in new[] { "*", "W/\"abc\"", "\"abc\"", "\"a\", \"b\"", "abc", "\"\"", new string('"', 3000), "\"" + new string('x', 5000) + "\"", "W/", ",,," })
        {
            foreach (var method in new[] { "PATCH", "DELETE" })
            {
                requests.Add(new("if-match", method, webhook, method == "PATCH" ? "{\"isActive\":true}"u8.ToArray() : null, "application/json", [("If-Match", ifMatch)]));
                requests.Add(new("if-match", method, webhook, method == "PATCH" ? "{\"isActive\":true}"u8.ToArray() : null, "application/json", [("If-Match", ifMatch), ("If-Match", "\"other\"")]));
            }
        }

        var tokens = new List<string> { "", "x", "v1:", "djE6", "%ff", "v1:../..", new string('A', 5000), "====", "djE6Li4vLi4", "null", "-1" };
        for (var i = 0; i < 20; i++)
        {
            var raw = new byte[random.Next(1, 200)];
            random.NextBytes(raw);
            tokens.Add(Uri.EscapeDataString(Convert.ToBase64String(raw)));
            tokens.Add(Uri.EscapeDataString(Convert.ToBase64String(Encoding.UTF8.GetBytes("v1:" + Guid.NewGuid()))));
        }

        var limits = new[] { "-1", "0", "101", "abc", "1e9", "20&limit=30", "%00", "99999999999999999999", "1.5", "" };
        foreach (var list in new[] { webhooks, "/api/v1/applications", events, deliveries })
        {
            foreach (var token in tokens)
            {
                requests.Add(new("page-token", "GET", $"{list}?pageToken={token}", null, null, []));
            }

            foreach (var limit in limits)
            {
                requests.Add(new("limit", "GET", $"{list}?limit={limit}", null, null, []));
            }
        }

        string[] filterValues =
        [
            "", "%00", "*", "PENDING", "pending", "SUCCEEDED%20", "FAILED&status=SKIPPED", "session.completed", "Session.Completed", "webhook.disabled",
            "session.completed&eventType=session.expired", "%ff%fe", "%ed%a0%80", "%F0%9F%92%A9", "%E2%80%AE", "' or '1'='1", "Status%20eq%20'FAILED'",
            new string('s', 5000), "..%2f..", "%5Cu0000", "null", "[]", "{}",
        ];
        foreach (var value in filterValues)
        {
            requests.Add(new("filter", "GET", $"{events}?eventType={value}", null, null, []));
            requests.Add(new("filter", "GET", $"{deliveries}?status={value}", null, null, []));
            requests.Add(new("filter", "GET", $"{deliveries}?status={value}&limit=2&pageToken={tokens[random.Next(tokens.Count)]}", null, null, []));
        }

        List<(string, string)[]> headerSets =
        [
            [("x-request-id", new string('r', 5000))], [("x-request-id", "../../etc")], [("x-request-id", "a b c")],
            [("Idempotency-Key", new string('k', 300))], [("Idempotency-Key", "")], [("Idempotency-Key", "a"), ("Idempotency-Key", "b")],
            [("Accept", "application/xml")], [("Accept-Encoding", "gzip;q=abc")], [("Content-Length-Extra", "1")], [("X-Forwarded-For", "127.0.0.1")],
            [("Host-Override", "evil.example.com")], [("Cookie", new string('c', 8000))], [("Referer", "javascript:alert(1)")],
        ];
        foreach (var operation in ApiOperations.All)
        {
            var path = "/api/" + operation.Route.Replace("{applicationId}", applicationId, StringComparison.Ordinal)
                .Replace("{webhookId}", webhookId, StringComparison.Ordinal).Replace("{keyId}", webhookId, StringComparison.Ordinal)
                .Replace("{eventId}", eventId, StringComparison.Ordinal);
            var body = operation.Method is "POST" or "PATCH" ? "{\"zzz\":1}"u8.ToArray() : null;
            foreach (var headers in headerSets)
            {
                requests.Add(new("header", operation.Method, path, body, "application/json", headers));
            }

            foreach (var method in new[] { "PUT", "TRACE", "OPTIONS", "CONNECT-ME" })
            {
                requests.Add(new("method", method, path, null, null, []));
            }

            foreach (var authorization in new[] { "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer wk_live_", "Bearer wk_live_" + new string('A', 49),
                         "Bearer " + new string('x', 6000), "bearer  wk_live_abc", "Bearer wk_test_" + new string('A', 49), "Token abc" })
            {
                requests.Add(new("auth", operation.Method, path, body, "application/json", [("Authorization", authorization)]));
            }
        }

        return requests;
    }

    /// <summary>Recover bodies: windows, statuses and flags mistyped, reversed, out of range or huge; the valid-looking ones only count.</summary>
    private static IEnumerable<byte[]> RecoverBodies()
    {
        var hourAgo = DateTimeOffset.UtcNow.AddHours(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var since = "\"since\":\"" + hourAgo + "\"";
        string[] texts =
        [
            "{\"dryRun\":true}", "{" + since + ",\"dryRun\":true}", "{\"since\":null,\"dryRun\":true}", "{\"since\":\"\",\"dryRun\":true}",
            "{\"since\":\"yesterday\",\"dryRun\":true}", "{\"since\":\"01/02/2027\",\"dryRun\":true}", "{\"since\":\"0001-01-01T00:00:00Z\",\"dryRun\":true}",
            "{\"since\":\"9999-12-31T23:59:59Z\",\"dryRun\":true}", "{\"since\":\"2027-13-45T25:61:61Z\",\"dryRun\":true}", "{\"since\":1700000000,\"dryRun\":true}",
            "{\"since\":\"" + hourAgo + "\\u202e\",\"dryRun\":true}", "{\"since\":\"\\ud800\",\"dryRun\":true}", "{\"since\":\"" + new string('9', 10_000) + "\",\"dryRun\":true}",
            "{" + since + ",\"until\":\"" + hourAgo + "\",\"dryRun\":true}", "{" + since + ",\"until\":\"1970-01-01T00:00:00Z\",\"dryRun\":true}",
            "{" + since + ",\"until\":[],\"dryRun\":true}", "{" + since + ",\"until\":null,\"dryRun\":true}",
            "{" + since + ",\"statuses\":null,\"dryRun\":true}", "{" + since + ",\"statuses\":[],\"dryRun\":true}", "{" + since + ",\"statuses\":\"FAILED\",\"dryRun\":true}",
            "{" + since + ",\"statuses\":[\"PENDING\"],\"dryRun\":true}", "{" + since + ",\"statuses\":[\"failed\"],\"dryRun\":true}",
            "{" + since + ",\"statuses\":[\"FAILED\",\"FAILED\",\"SKIPPED\"],\"dryRun\":true}", "{" + since + ",\"statuses\":[null,1,{}],\"dryRun\":true}",
            "{" + since + ",\"statuses\":[\"Status eq 'FAILED' or true\"],\"dryRun\":true}", "{" + since + ",\"statuses\":[\"FAILED') or ('1' eq '1\"],\"dryRun\":true}",
            "{" + since + ",\"statuses\":[" + string.Join(',', Enumerable.Repeat("\"FAILED\"", 10_000)) + "],\"dryRun\":true}",
            "{" + since + ",\"dryRun\":\"true\"}", "{" + since + ",\"dryRun\":1}", "{" + since + ",\"dryRun\":null}", "{" + since + ",\"dryRun\":true,\"dryRun\":false}",
            "{" + since + ",\"dryRun\":true,\"id\":\"x\"}", "{" + since + ",\"dryRun\":true,\"" + new string('k', 5000) + "\":1}",
        ];
        foreach (var text in texts)
        {
            yield return Encoding.UTF8.GetBytes(text);
        }
    }

    /// <summary>Publish bodies: huge, deep, mistyped and strange in every field a publish takes.</summary>
    private static IEnumerable<byte[]> PublishBodies(Random random, string webhookId)
    {
        const string Type = "\"eventType\":\"session.completed\"";
        string[] texts =
        [
            "{" + Type + ",\"payload\":{}}", "{" + Type + "}", "{\"payload\":{}}", "{" + Type + ",\"payload\":null}", "{" + Type + ",\"payload\":[]}",
            "{" + Type + ",\"payload\":\"{}\"}", "{" + Type + ",\"payload\":1e400}", "{" + Type + ",\"payload\":true}", "{" + Type + ",\"payload\":{},\"payload\":{}}",
            "{\"eventType\":\"*\",\"payload\":{}}", "{\"eventType\":\"\",\"payload\":{}}", "{\"eventType\":null,\"payload\":{}}", "{\"eventType\":[\"session.completed\"],\"payload\":{}}",
            "{\"eventType\":{},\"payload\":{}}", "{\"eventType\":1,\"payload\":{}}", "{\"eventType\":\"session.completed\\u0000\",\"payload\":{}}",
            "{\"eventType\":\"\\ud800\",\"payload\":{}}", "{\"eventType\":\"session.completed\\u202e\",\"payload\":{}}", "{\"eventType\":\"" + new string('e', 10_000) + "\",\"payload\":{}}",
            "{\"eventType\":\"session.\u0441ompleted\",\"payload\":{}}", "{\"eventType\":\"SESSION.COMPLETED\",\"payload\":{}}", "{\"eventType\":\"webhook.disabled\",\"payload\":{}}",
            "{" + Type + ",\"payload\":{\"\\ud800\":1}}", "{" + Type + ",\"payload\":{\"a\":\"\\udc00\"}}", "{" + Type + ",\"payload\":{\"a\":\"\\u0000\\u001f\\u2028\\u2029\"}}",
            "{" + Type + ",\"payload\":{\"\ud83d\udca9\":\"\u00e9\u0301\ufeff\"}}", "{" + Type + ",\"payload\":{\"n\":-0,\"m\":1E+308,\"k\":123456789012345678901234567890}}",
            "{" + Type + ",\"payload\":{\"a\":1,\"a\":2}}", "{" + Type + ",\"payload\":{\"__proto__\":{\"x\":1}}}",
            "{" + Type + ",\"payload\":" + string.Concat(Enumerable.Repeat("{\"a\":", 60)) + "1" + new string('}', 60) + "}",
            "{" + Type + ",\"payload\":" + string.Concat(Enumerable.Repeat("{\"a\":", 1000)) + "1" + new string('}', 1000) + "}",
            "{" + Type + ",\"payload\":{\"a\":" + new string('[', 5000) + new string(']', 5000) + "}}",
            "{" + Type + ",\"payload\":{\"blob\":\"" + new string('x', 300 * 1024) + "\"}}",
            "{" + Type + ",\"payload\":{\"blob\":\"" + new string('x', 250 * 1024) + "\"}}",
            "{" + Type + ",\"payload\":{\"blob\":\"" + string.Concat(Enumerable.Repeat("\\u00e9", 40_000)) + "\"}}",
            "{" + Type + ",\"payload\":{" + string.Join(',', Enumerable.Range(0, 20_000).Select(i => $"\"k{i}\":{i}")) + "}}",
            "{" + Type + ",\"payload\":{},\"externalId\":\"\"}", "{" + Type + ",\"payload\":{},\"externalId\":\"a b\"}",
            "{" + Type + ",\"payload\":{},\"externalId\":\"" + new string('x', 257) + "\"}", "{" + Type + ",\"payload\":{},\"externalId\":\"" + new string('x', 100_000) + "\"}",
            "{" + Type + ",\"payload\":{},\"externalId\":\"\\ud800\"}", "{" + Type + ",\"payload\":{},\"externalId\":\"caf\u00e9\"}", "{" + Type + ",\"payload\":{},\"externalId\":1}",
            "{" + Type + ",\"payload\":{},\"externalId\":[\"a\"]}", "{" + Type + ",\"payload\":{},\"externalId\":\"../../x\"}", "{" + Type + ",\"payload\":{},\"externalId\":\"a%00b\"}",
            "{" + Type + ",\"payload\":{},\"externalId\":\"hostile." + random.Next() + "\"}", "{" + Type + ",\"payload\":{},\"externalId\":\"hostile.fixed\"}",
            "{" + Type + ",\"payload\":{\"other\":1},\"externalId\":\"hostile.fixed\"}",
            "{" + Type + ",\"payload\":{},\"webhookIds\":null}", "{" + Type + ",\"payload\":{},\"webhookIds\":[]}", "{" + Type + ",\"payload\":{},\"webhookIds\":\"" + webhookId + "\"}",
            "{" + Type + ",\"payload\":{},\"webhookIds\":[\"" + webhookId + "\"]}", "{" + Type + ",\"payload\":{},\"webhookIds\":[\"" + webhookId.ToUpperInvariant() + "\"]}",
            "{" + Type + ",\"payload\":{},\"webhookIds\":[null]}", "{" + Type + ",\"payload\":{},\"webhookIds\":[1,2]}", "{" + Type + ",\"payload\":{},\"webhookIds\":[{}]}",
            "{" + Type + ",\"payload\":{},\"webhookIds\":[\"" + string.Join("\",\"", Enumerable.Repeat(webhookId, 21)) + "\"]}",
            "{" + Type + ",\"payload\":{},\"webhookIds\":[\"" + string.Join("\",\"", Enumerable.Range(0, 20).Select(i => $"0193f1c2-0000-7000-8000-{i:D12}")) + "\"]}",
            "{" + Type + ",\"payload\":{},\"webhookIds\":[" + string.Join(',', Enumerable.Repeat("\"x\"", 10_000)) + "]}",
            "{" + Type + ",\"payload\":{},\"webhookIds\":[\"" + new string('a', 50_000) + "\"]}",
            "{" + Type + ",\"payload\":{},\"id\":\"x\",\"createdAt\":\"2020-01-01T00:00:00Z\",\"applicationId\":\"x\"}", "{" + Type + ",\"payload\":{},\"" + new string('k', 5000) + "\":1}",
        ];
        foreach (var text in texts)
        {
            yield return Encoding.UTF8.GetBytes(text);
        }

        // Not UTF-8 inside the payload, the event type and the externalId.
        yield return [.. "{\"eventType\":\"session.completed\",\"payload\":{\"a\":\""u8, 0xff, 0xfe, .. "\"}}"u8];
        yield return [.. "{\"eventType\":\"session.\""u8, 0xc0, 0xae, .. "\",\"payload\":{}}"u8];
        yield return [.. "{\"eventType\":\"session.completed\",\"payload\":{},\"externalId\":\""u8, 0xed, 0xa0, 0x80, .. "\"}"u8];
    }

    private static IEnumerable<byte[]> Bodies(Random random)
    {
        string[] texts =
        [
            "", "{", "}", "[]", "[{}]", "\"str\"", "null", "123", "true", "{\"url\":}", "{\"url\":\"x\",}", "{,}", "{'url':'x'}", "{\"url\":NaN}",
            "{\"url\":Infinity}", "{/*c*/}", "{\"a\":1}{\"b\":2}", "\ufeff{}", "{\"url\":\"https://a.example.com\",\"url\":\"https://b.example.com\"}",
            "{\"name\":\"x\",\"name\":\"y\"}", "{\"url\":\"\\ud800\"}", "{\"name\":\"\\ud800\"}", "{\"\\udc00\":1}", "{\"description\":\"\\ud83d\"}", "{\"name\":\"\\u0000\"}", "{\"description\":\"\\u202e\\u200b\"}",
            "{\"url\":\"https://\\u0430pple.com\"}", "{\"name\":\"" + new string('\u00e9', 200) + "\"}", "{\"name\":\"\ud83d\udca9\"}",
            "{\"url\":1}", "{\"url\":true}", "{\"url\":[]}", "{\"url\":{}}", "{\"url\":null}", "{\"subscribedEvents\":\"x\"}", "{\"subscribedEvents\":[1]}",
            "{\"subscribedEvents\":[null]}", "{\"subscribedEvents\":{}}", "{\"description\":1}", "{\"description\":[]}", "{\"isActive\":\"true\"}",
            "{\"isActive\":1}", "{\"isActive\":null}", "{\"gracePeriodSeconds\":-1}", "{\"gracePeriodSeconds\":1e20}", "{\"gracePeriodSeconds\":\"10\"}",
            "{\"gracePeriodSeconds\":604801}", "{\"gracePeriodSeconds\":1.5}", "{\"gracePeriodSeconds\":null}", "{\"name\":\"\"}", "{\"name\":1}",
            "{\"name\":null}", "{\"name\":\"" + new string('n', 101) + "\"}", "{\"expiresAt\":\"yesterday\",\"name\":\"x\"}", "{\"expiresAt\":1,\"name\":\"x\"}",
            "{\"expiresAt\":\"2001-01-01T00:00:00Z\",\"name\":\"x\"}", "{\"expiresAt\":\"9999-12-31T23:59:59Z\",\"name\":\"x\"}", "{\"id\":\"x\"}",
            "{\"signingSecret\":\"whsec_x\"}", "{\"createdAt\":\"2020-01-01T00:00:00Z\"}", "{\"__proto__\":{}}", "{\"constructor\":{\"prototype\":{}}}",
            "{\"url\":\"http://169.254.169.254/latest/meta-data\"}", "{\"url\":\"https://[::ffff:127.0.0.1]/\"}", "{\"url\":\"https://2130706433/\"}",
            "{\"url\":\"https://user:pass@a.example.com/\"}", "{\"url\":\"https://a.example.com/#frag\"}", "{\"url\":\"javascript:alert(1)\"}",
            "{\"url\":\"file:///etc/passwd\"}", "{\"url\":\"https://a.example.com/\\r\\nX-Evil: 1\"}", "{\"url\":\"https://localhost./\"}",
            "{\"url\":\"https://" + new string('a', 3000) + ".example.com\"}", "{\"description\":\"" + new string('d', 501) + "\"}",
            "{\"description\":\"line\\nbreak\"}", "{\"" + new string('k', 5000) + "\":1}", "{\"url\":\"https://a.example.com\",\"subscribedEvents\":[" +
            string.Join(',', Enumerable.Repeat("\"session.completed\"", 101)) + "]}",
            new string('[', 17) + new string(']', 17), "{\"a\":" + string.Concat(Enumerable.Repeat("{\"a\":", 20)) + "1" + new string('}', 21),
            new string('[', 100_000), new string('{', 50_000), "{\"url\":\"" + new string('u', 60_000) + "\"}", "{\"name\":\"" + new string('n', 70_000) + "\"}",
            "[" + string.Join(',', Enumerable.Repeat("1", 20_000)) + "]", "{\"subscribedEvents\":[" + string.Join(',', Enumerable.Repeat("\"x\"", 10_000)) + "]}",
        ];
        foreach (var text in texts)
        {
            yield return Encoding.UTF8.GetBytes(text);
        }

        // Bytes that are not UTF-8 at all, inside and outside strings.
        yield return [0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d];
        yield return [0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xc0, 0xae, 0x22, 0x7d];
        yield return [0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d];
        yield return [0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00];
        for (var i = 0; i < 20; i++)
        {
            var noise = new byte[random.Next(1, 4096)];
            random.NextBytes(noise);
            yield return noise;
        }
    }
}
