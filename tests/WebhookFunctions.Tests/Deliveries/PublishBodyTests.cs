using System.Net;
using System.Text;
using System.Text.Json;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>What a publish body may hold, and that a large payload arrives byte for byte.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class PublishBodyTests(ApiFixture fixture)
{
    [Fact]
    public async Task A_body_over_256_KiB_is_413()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var body = $$$"""{"eventType":"session.completed","payload":{"blob":"{{{new string('x', 256 * 1024)}}}"}}""";

        using var response = await tenant.Http.PostAsync(tenant.EventsPath(), Http.Json(body));

        await response.AssertErrorAsync(413);
        Assert.Empty((await tenant.GetJsonAsync(tenant.EventsPath())).GetProperty("items").EnumerateArray());
    }

    [Theory]
    [InlineData("""{"eventType":"session.completed","payload":[1,2]}""", "payload")]
    [InlineData("""{"eventType":"session.completed","payload":"text"}""", "payload")]
    [InlineData("""{"eventType":"session.completed","payload":null}""", "payload")]
    [InlineData("""{"eventType":"session.completed","payload":42}""", "payload")]
    [InlineData("""{"eventType":"session.completed"}""", "payload")]
    [InlineData("""{"payload":{}}""", "eventType")]
    [InlineData("""{"eventType":"*","payload":{}}""", "eventType")]
    [InlineData("""{"eventType":"session.unknown","payload":{}}""", "eventType")]
    [InlineData("""{"eventType":"Session.Completed","payload":{}}""", "eventType")]
    [InlineData("""{"eventType":1,"payload":{}}""", "eventType")]
    [InlineData("""{"eventType":"session.completed","payload":{},"externalId":"has space"}""", "externalId")]
    [InlineData("""{"eventType":"session.completed","payload":{},"externalId":"a/b"}""", "externalId")]
    [InlineData("""{"eventType":"session.completed","payload":{},"externalId":"caf\u00e9"}""", "externalId")]
    [InlineData("""{"eventType":"session.completed","payload":{},"externalId":""}""", "externalId")]
    [InlineData("""{"eventType":"session.completed","payload":{},"externalId":7}""", "externalId")]
    [InlineData("""{"eventType":"session.completed","payload":{},"webhookIds":"x"}""", "webhookIds")]
    [InlineData("""{"eventType":"session.completed","payload":{},"webhookIds":["NOT-A-UUID"]}""", "webhookIds")]
    [InlineData("""{"eventType":"session.completed","payload":{},"id":"0193f1c2-0000-7000-8000-000000000000"}""", "id")]
    [InlineData("""{"eventType":"session.completed","payload":{},"extra":1}""", "extra")]
    public async Task A_malformed_body_is_a_400_naming_the_field(string body, string field)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync(tenant.EventsPath(), Http.Json(body));

        await response.AssertErrorAsync(400, field);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("")]
    [InlineData("{")]
    public async Task A_body_that_is_not_a_json_object_is_a_400(string body)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync(tenant.EventsPath(), Http.Json(body));

        await response.AssertErrorAsync(400);
    }

    [Fact]
    public async Task External_ids_of_256_allowed_characters_are_accepted_and_257_are_not()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var allowed = "AZaz09._:-";
        var longest = string.Concat(Enumerable.Repeat(allowed, 26))[..256];

        using var ok = await tenant.Http.PostAsync(tenant.EventsPath(), Http.Json(new { eventType = "session.completed", payload = new { }, externalId = longest }));
        using var tooLong = await tenant.Http.PostAsync(tenant.EventsPath(), Http.Json(new { eventType = "session.completed", payload = new { }, externalId = longest + "a" }));
        using var tooMany = await tenant.Http.PostAsync(tenant.EventsPath(), Http.Json(new
        {
            eventType = "session.completed", payload = new { }, webhookIds = Enumerable.Range(0, 21).Select(_ => Guid.CreateVersion7().ToString()).ToArray(),
        }));

        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        Assert.Equal(longest, (await ok.BodyAsync()).GetProperty("externalId").GetString());
        await tooLong.AssertErrorAsync(400, "externalId");
        await tooMany.AssertErrorAsync(400, "webhookIds");
    }

    [Fact]
    public async Task A_200_KiB_payload_is_delivered_and_read_back_byte_for_byte()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhook = await tenant.CreateWebhookAsync(new { url = receiver.Url("/big") });

        // Multi-byte characters everywhere, so chunk boundaries (every 60 KiB) fall inside them, and escapes kept as written.
        var text = new StringBuilder();
        var random = new Random(7);
        while (Encoding.UTF8.GetByteCount(text.ToString()) < 200 * 1024)
        {
            text.Append(random.Next(4) switch { 0 => "é", 1 => "💩", 2 => "\\u00e9\\n", _ => "abc" });
        }

        var payload = $$$"""{"blob":"{{{text}}}","n":1.50,"nested":{"a":[1,2,{"b":null}]}}""";
        var body = $$$"""{"eventType":"session.completed","payload":{{{payload}}}}""";
        Assert.InRange(Encoding.UTF8.GetByteCount(body), 200 * 1024, 256 * 1024);

        using var publish = await tenant.Http.PostAsync(tenant.EventsPath(), Http.Json(body));
        Assert.Equal(HttpStatusCode.Accepted, publish.StatusCode);
        var eventId = (await publish.BodyAsync()).Id();
        await tenant.WaitForStatusAsync(webhook.Id(), eventId, "SUCCEEDED");

        var got = Assert.Single(receiver.Deliveries, d => d.Path == "/big");
        Assert.True(got.VerifiesWith(webhook.GetProperty("signingSecret").GetString()!));
        var prefix = """{"type":"session.completed","timestamp":""";
        Assert.StartsWith(prefix, got.Body, StringComparison.Ordinal);
        Assert.EndsWith(",\"data\":" + payload + "}", got.Body, StringComparison.Ordinal);
        var read = await tenant.GetJsonAsync($"{tenant.EventsPath()}/{eventId}");
        using var expected = JsonDocument.Parse(payload);
        Assert.True(JsonElement.DeepEquals(expected.RootElement, read.GetProperty("payload")), "GetEvent's payload differs from what was published");
    }
}
