using System.Net;
using System.Text;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Webhooks;

[Collection(ApiTestGroup.Name)]
public sealed class WebhookValidationTests(ApiFixture fixture)
{
    public static TheoryData<string> RejectedUrls() =>
    [
        "http://hooks.example.com/x",
        "ftp://hooks.example.com/x",
        "/relative/path",
        "hooks.example.com/x",
        "https://user:pass@hooks.example.com/x",
        "https://user@hooks.example.com/x",
        "https://hooks.example.com/x#fragment",
        "https://localhost/x",
        "https://LOCALHOST./x",
        "https://api.localhost/x",
        "https://127.0.0.1/x",
        "https://127.1.2.3:8443/x",
        "https://10.0.0.1/x",
        "https://172.16.5.4/x",
        "https://192.168.1.1/x",
        "https://100.64.0.1/x",
        "https://169.254.169.254/latest/meta-data",
        "https://168.63.129.16/x",
        "https://0.0.0.0/x",
        "https://224.0.0.1/x",
        "https://240.0.0.1/x",
        "https://192.0.2.10/x",
        "https://198.51.100.10/x",
        "https://203.0.113.10/x",
        "https://192.88.99.1/x",
        "https://[::ffff:192.88.99.1]/x",
        "https://[64:ff9b:1::a9fe:a9fe]/x",
        "https://[100::1]/x",
        "https://[3fff::1]/x",
        "https://[::1]/x",
        "https://[::]/x",
        "https://[fc00::1]/x",
        "https://[fd12:3456::1]/x",
        "https://[fe80::1]/x",
        "https://[ff02::1]/x",
        "https://[2001:db8::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[::ffff:169.254.169.254]/x",
        "https://[::ffff:10.0.0.1]/x",
        "https://2130706433/x",
        "https://0x7f000001/x",
        "https://0177.0.0.1/x",
        "https://0x7f.1/x",
        "https://hooks.example.com/a b",
        "",
    ];

    [Theory]
    [MemberData(nameof(RejectedUrls))]
    public async Task Create_rejects_urls_that_are_not_public_absolute_https(string url)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url }));

        await response.AssertErrorAsync(400, "url");
    }

    /// <summary>Loopback spelled so that the URI parser calls it a DNS name, and ports no receiver listens on.</summary>
    public static TheoryData<string> DisguisedLocalUrlsAndServicePorts() =>
    [
        "https://127\u30020\u30020\u30021/",
        "https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/",
        "https://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/",
        "https://127.0.0.1./",
        "https://10.0.0.1../x",
        "https://\uff3b::1\uff3d/x",
        "https://hooks.example.com:22/x",
        "https://hooks.example.com:25/x",
        "https://hooks.example.com:0/x",
        "https://93.184.216.34:0/x",
    ];

    [Theory]
    [MemberData(nameof(DisguisedLocalUrlsAndServicePorts))]
    public async Task Create_and_patch_refuse_disguised_loopback_and_service_ports(string url)
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });

        using var create = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url }));
        using var patch = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(created.GetProperty("id").GetString()!), new { url });

        await create.AssertErrorAsync(400, "url");
        await patch.AssertErrorAsync(400, "url");
    }

    [Theory]
    [InlineData("https://hooks.example.com:443/x")]
    [InlineData("https://hooks.example.com:1024/x")]
    [InlineData("https://hooks.example.com:8080/x")]
    [InlineData("https://hooks.example.com:65535/x")]
    [InlineData("https://b\u00fccher.example/x")]
    public async Task Create_accepts_receiver_ports_and_international_names(string url)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url }));

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("https://hooks.example.com/x")]
    [InlineData("https://93.184.216.34/x")]
    [InlineData("https://[2606:4700::1111]/x")]
    [InlineData("https://hooks.example.com:8443/path?query=1")]
    public async Task Create_accepts_public_https_urls(string url)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url }));

        await AssertKeptAsync(tenant, response, "url", url);
    }

    [Fact]
    public async Task Url_of_2048_characters_is_accepted_and_2049_refused()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        const string Head = "https://hooks.example.com/";
        var exact = Head + new string('a', 2048 - Head.Length);
        var over = Head + new string('b', 2049 - Head.Length);

        using var ok = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = exact }));
        using var tooLong = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = over }));

        await AssertKeptAsync(tenant, ok, "url", exact);
        var error = await tooLong.AssertErrorAsync(400, "url");
        Assert.Contains("2048", error.GetProperty("details")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Description_of_500_characters_is_accepted_and_501_refused()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        var longest = new string('d', 500);
        var emojis = string.Concat(Enumerable.Repeat("😀", 500));
        using var ok = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl(), description = longest }));
        using var emoji = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl(), description = emojis }));
        using var tooLong = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl(), description = new string('d', 501) }));

        await AssertKeptAsync(tenant, ok, "description", longest);
        await AssertKeptAsync(tenant, emoji, "description", emojis);
        await tooLong.AssertErrorAsync(400, "description");
    }

    [Theory]
    [InlineData("line\nbreak")]
    [InlineData("tab\there")]
    [InlineData("nul\0")]
    [InlineData("escape\u001b[31m")]
    [InlineData("del\u007f")]
    public async Task Description_with_control_characters_is_refused(string description)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl(), description }));

        await response.AssertErrorAsync(400, "description");
    }

    [Fact]
    public async Task Subscribed_events_of_100_entries_are_accepted_and_101_refused()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var hundred = Enumerable.Repeat("session.completed", 100).ToArray();
        var hundredAndOne = Enumerable.Repeat("session.completed", 101).ToArray();

        using var ok = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl(), subscribedEvents = hundred }));
        using var tooMany = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl(), subscribedEvents = hundredAndOne }));

        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        Assert.Equal(["session.completed"], (await ok.BodyAsync()).GetProperty("subscribedEvents").EnumerateArray().Select(e => e.GetString()));
        await tooMany.AssertErrorAsync(400, "subscribedEvents");
    }

    [Fact]
    public async Task Unknown_event_types_are_listed_by_name()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync(tenant.WebhooksPath,
            Http.Json(new { url = Http.UniqueUrl(), subscribedEvents = new[] { "session.completed", "order.paid", "refund.created" } }));

        var body = await response.AssertErrorAsync(400, "subscribedEvents");
        var message = body.GetProperty("details")[0].GetProperty("message").GetString()!;
        Assert.Contains("order.paid", message, StringComparison.Ordinal);
        Assert.Contains("refund.created", message, StringComparison.Ordinal);
        Assert.DoesNotContain("session.completed", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"url\":\"https://a.example.com/x\",\"id\":\"x\"}", "id")]
    [InlineData("{\"url\":\"https://a.example.com/x\",\"signingSecret\":\"whsec_x\"}", "signingSecret")]
    [InlineData("{\"url\":\"https://a.example.com/x\",\"createdAt\":\"2020-01-01T00:00:00Z\"}", "createdAt")]
    [InlineData("{\"url\":\"https://a.example.com/x\",\"keyFingerprint\":\"x\"}", "keyFingerprint")]
    [InlineData("{\"url\":\"https://a.example.com/x\",\"merchantId\":\"x\"}", "merchantId")]
    [InlineData("{\"url\":\"https://a.example.com/x\",\"URL\":\"x\"}", "URL")]
    [InlineData("{}", "url")]
    [InlineData("{\"url\":null}", "url")]
    [InlineData("{\"url\":42}", "url")]
    [InlineData("{\"url\":\"https://a.example.com/x\",\"isActive\":\"yes\"}", "isActive")]
    [InlineData("{\"url\":\"https://a.example.com/x\",\"isActive\":null}", "isActive")]
    [InlineData("{\"url\":\"https://a.example.com/x\",\"subscribedEvents\":\"session.completed\"}", "subscribedEvents")]
    [InlineData("{\"url\":\"https://a.example.com/x\",\"subscribedEvents\":[1]}", "subscribedEvents")]
    [InlineData("{\"url\":\"https://a.example.com/x\",\"description\":7}", "description")]
    [InlineData("{\"url\":\"https://a.example.com/x\",\"description\":\"\\ud800\"}", "description")]
    [InlineData("{\"url\":\"https://a.example.com/x\",\"url\":\"https://b.example.com/x\"}", "body")]
    [InlineData("{\"url\":", "body")]
    [InlineData("[{\"url\":\"https://a.example.com/x\"}]", "body")]
    [InlineData("\"https://a.example.com/x\"", "body")]
    [InlineData("null", "body")]
    public async Task Create_refuses_bad_bodies_naming_the_field(string json, string field)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(json));

        await response.AssertErrorAsync(400, field);
    }

    [Fact]
    public async Task Every_problem_in_a_body_is_reported_at_once()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync(tenant.WebhooksPath,
            Http.Json("{\"url\":\"http://localhost\",\"description\":\"a\\u0000\",\"isActive\":1,\"id\":\"x\"}"));

        var body = await response.AssertErrorAsync(400);
        var fields = body.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("field").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "url", "description", "isActive", "id" }, fields);
    }

    [Fact]
    public async Task Missing_body_is_400()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync(tenant.WebhooksPath, null);

        await response.AssertErrorAsync(400, "body");
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/xml")]
    public async Task Body_with_a_wrong_content_type_is_415(string mediaType)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json("{\"url\":\"https://a.example.com/x\"}", mediaType));

        await response.AssertErrorAsync(415);
    }

    [Fact]
    public async Task Body_of_64_KiB_is_read_and_one_byte_more_is_413()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var exact = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(BodyOfSize(64 * 1024)));
        using var over = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(BodyOfSize((64 * 1024) + 1)));

        // The exact-size body is parsed, and refused only for its over-long description.
        await exact.AssertErrorAsync(400, "description");
        await over.AssertErrorAsync(413);
    }

    [Fact]
    public async Task Oversized_chunked_body_without_content_length_is_413()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(BodyOfSize(200 * 1024))));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, tenant.WebhooksPath) { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await tenant.Http.SendAsync(request);

        await response.AssertErrorAsync(413);
    }

    [Fact]
    public async Task Patch_with_no_recognised_field_is_400()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var path = tenant.WebhookPath(created.GetProperty("id").GetString()!);

        using var empty = await tenant.Http.PatchJsonAsync(path, new { });
        using var readOnly = await tenant.Http.PatchJsonAsync(path, new { signingSecret = "whsec_AAAA" });
        using var unknown = await tenant.Http.PatchJsonAsync(path, new { colour = "blue" });

        await empty.AssertErrorAsync(400, "body");
        await readOnly.AssertErrorAsync(400, "signingSecret");
        await unknown.AssertErrorAsync(400, "colour");
    }

    [Fact]
    public async Task Patch_validates_fields_like_create()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var path = tenant.WebhookPath(created.GetProperty("id").GetString()!);

        using var url = await tenant.Http.PatchJsonAsync(path, new { url = "https://10.1.2.3/x" });
        using var events = await tenant.Http.PatchJsonAsync(path, new { subscribedEvents = new[] { "nope" } });
        using var nullUrl = await tenant.Http.PatchJsonAsync(path, new { url = (string?)null });

        await url.AssertErrorAsync(400, "url");
        await events.AssertErrorAsync(400, "subscribedEvents");
        await nullUrl.AssertErrorAsync(400, "url");
    }

    [Theory]
    [InlineData("not-a-uuid", null)]
    [InlineData("01A2083E-180C-7814-BB08-93E526660C82", null)]
    [InlineData("..%2F..%2Fetc", null)]
    [InlineData(null, "not-a-uuid")]
    [InlineData(null, "01a2083e-180c-7814-bb08-93e52666")]
    public async Task Malformed_ids_in_routes_are_400_not_500(string? applicationId, string? webhookId)
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var app = applicationId ?? tenant.ApplicationId;
        var basePath = $"/api/v1/applications/{app}/webhooks";
        var field = applicationId is not null ? "applicationId" : "webhookId";

        var responses = new List<HttpResponseMessage>
        {
            await tenant.Http.GetAsync(basePath + "/" + (webhookId ?? "0193f1c2-0000-7000-8000-000000000000")),
            await tenant.Http.PatchJsonAsync(basePath + "/" + (webhookId ?? "0193f1c2-0000-7000-8000-000000000000"), new { isActive = false }),
            await tenant.Http.DeleteAsync(basePath + "/" + (webhookId ?? "0193f1c2-0000-7000-8000-000000000000")),
        };
        if (webhookId is null)
        {
            responses.Add(await tenant.Http.GetAsync(basePath));
            responses.Add(await tenant.Http.PostAsync(basePath, Http.Json(new { url = Http.UniqueUrl() })));
        }

        foreach (var response in responses)
        {
            await response.AssertErrorAsync(400, field);
            response.Dispose();
        }
    }

    [Fact]
    public async Task Unknown_webhook_is_404()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.GetAsync(tenant.WebhookPath("0193f1c2-0000-7000-8000-000000000000"));

        await response.AssertErrorAsync(404);
    }

    /// <summary>An accepted value comes back exactly as sent, from the create and from a later read.</summary>
    private static async Task AssertKeptAsync(Tenant tenant, HttpResponseMessage created, string field, string sent)
    {
        var body = await created.BodyAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"Expected 201, got {(int)created.StatusCode}: {body}");
        Assert.Equal(sent, body.GetProperty(field).GetString());
        using var read = await tenant.Http.GetAsync(created.Headers.Location);
        Assert.Equal(sent, (await read.BodyAsync()).GetProperty(field).GetString());
    }

    private static string BodyOfSize(int bytes)
    {
        const string Head = "{\"url\":\"https://hooks.example.com/x\",\"description\":\"";
        const string Tail = "\"}";
        return Head + new string('x', bytes - Head.Length - Tail.Length) + Tail;
    }
}
