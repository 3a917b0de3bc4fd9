using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Events;
using WebhookFunctions.Api.Health;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Jobs;
using WebhookFunctions.Api.OpenApi;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Paging;
using WebhookFunctions.Core.Serialization;
using WebhookFunctions.Core.Signing;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Core.Webhooks;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Hosting;

/// <summary>
/// The OpenAPI document is a checked-in file; these tests hold it to the code: its operations to the
/// route table, its response schemas to the types the handlers write, and its request examples to
/// what the running API accepts.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class OpenApiDocumentTests(ApiFixture fixture)
{
    private static readonly string[] Methods = ["get", "post", "put", "patch", "delete"];
    private static readonly string[] IdempotentOperations =
        [ApiOperations.CreateWebhook, ApiOperations.RotateWebhookSecret, ApiOperations.TestWebhook, ApiOperations.CreateApplication, ApiOperations.CreateApiKey];

    private static JsonObject Document => JsonNode.Parse(OpenApiEndpoints.Bytes.Span)!.AsObject();

    private static IEnumerable<(string Path, string Method, JsonObject Operation)> Operations()
    {
        foreach (var (path, item) in Document["paths"]!.AsObject())
        {
            foreach (var method in Methods.Where(m => item![m] is not null))
            {
                yield return (path, method.ToUpperInvariant(), item![method]!.AsObject());
            }
        }
    }

    [Fact]
    public async Task The_document_is_served_without_a_key_and_reads_as_valid_OpenAPI_3_1()
    {
        using var client = fixture.Host.Client();
        using var response = await client.GetAsync("/api/openapi.json");
        var served = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.Contains("x-request-id"));
        Assert.Equal(OpenApiEndpoints.Bytes.ToArray(), served);

        var settings = new OpenApiReaderSettings();
        var read = OpenApiDocument.Load(new MemoryStream(served), "json", settings);
        Assert.Empty(read.Diagnostic!.Errors);
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, read.Diagnostic.SpecificationVersion);
        Assert.Empty(read.Document!.Validate(ValidationRuleSet.GetDefaultRuleSet()) ?? []);
    }

    [Fact]
    public void It_names_the_local_run_as_its_server_and_says_to_replace_it_with_the_deployed_host()
    {
        // Without servers, generated clients have no base URL and Redocly's recommended rules fail
        // (no-empty-servers). Paths carry /api, so a server URL must not.
        var servers = Document["servers"]!.AsArray();

        var local = Assert.Single(servers);
        Assert.Equal("http://localhost:7071", (string?)local!["url"]);
        Assert.Contains("deployed host", (string?)local["description"], StringComparison.Ordinal);
    }

    [Fact]
    public void Its_operations_are_exactly_the_route_table()
    {
        var documented = Operations().Select(o => $"{o.Operation["operationId"]} {o.Method} {o.Path}").Order(StringComparer.Ordinal);
        var routed = ApiOperations.All.Select(o => $"{o.Name} {o.Method} /{Routes.Prefix}/{o.Route}").Order(StringComparer.Ordinal);

        Assert.Equal(routed, documented);
    }

    [Fact]
    public void Anonymous_operations_opt_out_of_the_bearer_scheme_and_the_rest_document_401()
    {
        var scheme = Document["components"]!["securitySchemes"]!["apiKey"]!;
        Assert.Equal("http", (string?)scheme["type"]);
        Assert.Equal("bearer", (string?)scheme["scheme"]);
        Assert.NotNull(Document["security"]![0]!["apiKey"]);

        foreach (var (_, _, operation) in Operations())
        {
            var name = (string)operation["operationId"]!;
            var anonymous = ApiOperations.IsAnonymous(name);
            Assert.True(anonymous == (operation["security"] is JsonArray { Count: 0 }), $"{name}: security does not match the route table");
            Assert.True(anonymous != (operation["responses"]!["401"] is not null), $"{name}: 401 documented wrongly");
        }
    }

    [Fact]
    public void Every_response_carries_x_request_id_and_every_error_the_envelope()
    {
        var components = Document["components"]!["responses"]!.AsObject();
        foreach (var (_, _, operation) in Operations())
        {
            foreach (var (status, response) in operation["responses"]!.AsObject())
            {
                var resolved = response!["$ref"] is { } reference ? components[((string)reference!).Split('/')[^1]]! : response;
                Assert.True(resolved["headers"]?["x-request-id"] is not null, $"{operation["operationId"]} {status}: no x-request-id header");
                if (int.Parse(status, System.Globalization.CultureInfo.InvariantCulture) >= 400 && (string)operation["operationId"]! != ApiOperations.Health)
                {
                    Assert.Equal("#/components/schemas/Error", (string?)resolved["content"]!["application/json"]!["schema"]!["$ref"]);
                }
            }
        }
    }

    [Fact]
    public void Every_operation_documents_429_with_Retry_After_and_the_envelope()
    {
        var components = Document["components"]!["responses"]!.AsObject();
        foreach (var (_, _, operation) in Operations())
        {
            var response = operation["responses"]!["429"];
            Assert.True(response is not null, $"{operation["operationId"]}: 429 is not documented");
            var resolved = response!["$ref"] is { } reference ? components[((string)reference!).Split('/')[^1]]! : response;
            Assert.True(resolved["headers"]?["Retry-After"] is not null, $"{operation["operationId"]}: 429 without Retry-After");
            Assert.Equal("#/components/schemas/Error", (string?)resolved["content"]!["application/json"]!["schema"]!["$ref"]);
        }
    }

    [Fact]
    public void Headers_are_documented_where_the_code_reads_and_writes_them()
    {
        foreach (var (_, method, operation) in Operations())
        {
            var name = (string)operation["operationId"]!;
            var parameters = operation["parameters"]?.AsArray().Select(p => ((string)p!["$ref"]!).Split('/')[^1]).ToList() ?? [];
            Assert.Contains("XRequestId", parameters);
            Assert.True(IdempotentOperations.Contains(name) == parameters.Contains("IdempotencyKey"), $"{name}: Idempotency-Key documented wrongly");
            Assert.True((method is "PATCH" or "DELETE" && name.EndsWith("Webhook", StringComparison.Ordinal)) == parameters.Contains("IfMatch"), $"{name}: If-Match documented wrongly");
        }

        var get = Operations().Single(o => (string)o.Operation["operationId"]! == ApiOperations.GetWebhook).Operation;
        Assert.NotNull(get["responses"]!["200"]!["headers"]!["ETag"]);
    }

    public static TheoryData<string, Type> ResponseSchemas => new()
    {
        { "Webhook", typeof(WebhookResponse) },
        { "RotatedSecret", typeof(RotatedSecretResponse) },
        { "TestResult", typeof(WebhookTestResult) },
        { "EventType", typeof(EventTypeResponse) },
        { "EventTypeList", typeof(EventTypeList) },
        { "Application", typeof(ApplicationResponse) },
        { "ApplicationPage", typeof(Page<ApplicationResponse>) },
        { "WebhookPage", typeof(Page<WebhookResponse>) },
        { "ApiKey", typeof(ApiKeyInfo) },
        { "ApiKeyPage", typeof(Page<ApiKeyInfo>) },
        { "CreatedApiKey", typeof(CreatedApiKey) },
        { "Event", typeof(EventResponse) },
        { "EventDetail", typeof(EventDetailResponse) },
        { "EventDelivery", typeof(EventDeliveryResponse) },
        { "EventPage", typeof(Page<EventResponse>) },
        { "Delivery", typeof(DeliveryResponse) },
        { "DeliveryPage", typeof(Page<DeliveryResponse>) },
        { "Attempt", typeof(AttemptResponse) },
        { "AttemptList", typeof(AttemptList) },
        { "ResendResult", typeof(ResendResponse) },
        { "Job", typeof(JobResponse) },
        { "RecoverCount", typeof(DryRunResponse) },
        { "Health", typeof(HealthReport) },
        { "Error", typeof(ApiError) },
        { "ErrorDetail", typeof(ErrorDetail) },
    };

    [Theory]
    [MemberData(nameof(ResponseSchemas))]
    public void Each_response_schema_has_exactly_the_properties_the_code_writes(string schema, Type type)
    {
        var documented = Document["components"]!["schemas"]![schema]!["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal);
        var written = ApiJson.Options.GetTypeInfo(type).Properties.Select(p => p.Name)
            .Where(n => !(type == typeof(WebhookResponse) && n == "signingSecret"))
            .Order(StringComparer.Ordinal);

        Assert.Equal(written, documented);
    }

    [Fact]
    public void The_created_webhook_schema_is_the_webhook_plus_its_secret()
    {
        var schemas = Document["components"]!["schemas"]!;
        var created = schemas["WebhookCreated"]!["properties"]!.AsObject().Select(p => p.Key).ToHashSet();
        var plain = schemas["Webhook"]!["properties"]!.AsObject().Select(p => p.Key).Append("signingSecret").ToHashSet();

        Assert.Equal(plain.Order(), created.Order());
        Assert.Equal(ApiJson.Options.GetTypeInfo(typeof(WebhookResponse)).Properties.Select(p => p.Name).Order(), created.Order());
    }

    [Fact]
    public void The_messages_a_receiver_gets_are_documented_as_the_sender_writes_them()
    {
        var e = new EventRecord
        {
            Id = Ids.New(), MerchantId = Ids.New(), ApplicationId = Ids.New(), EventType = "session.completed",
            Payload = """{"sessionId":"cs_123"}"""u8.ToArray(), CreatedAt = DateTimeOffset.UtcNow,
        };
        var written = JsonNode.Parse(AttemptProcessor.Body(e))!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
        var schemas = Document["components"]!["schemas"]!;
        Assert.Equal(written, schemas["EventMessage"]!["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(written, schemas["WebhookDisabledMessage"]!["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(EventCatalog.WebhookDisabled, (string?)schemas["WebhookDisabledMessage"]!["properties"]!["type"]!["const"]);

        var webhooks = Document["webhooks"]!.AsObject();
        Assert.Equal(["event", EventCatalog.WebhookDisabled], webhooks.Select(w => w.Key));
        foreach (var (name, item) in webhooks)
        {
            var headers = item!["post"]!["parameters"]!.AsArray().Where(p => (string?)p!["in"] == "header").Select(p => (string)p!["name"]!);
            Assert.True(
                headers.SequenceEqual([WebhookSigner.IdHeader, WebhookSigner.TimestampHeader, WebhookSigner.SignatureHeader, "user-agent"]),
                $"{name}: the documented headers are not the ones the sender writes");
        }
    }

    [Fact]
    public async Task Every_request_example_is_accepted_and_an_undocumented_property_is_refused()
    {
        // A host that delivers, so that ResendDelivery has a delivery to resend.
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhook = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl(), subscribedEvents = new[] { "session.expired" } });
        var webhookId = webhook.GetProperty("id").GetString()!;

        // The UpdateWebhook example deactivates the webhook above, and a resend to an inactive webhook is a 409,
        // so the delivery routes use a second webhook that stays active.
        var delivering = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok"), subscribedEvents = new[] { "session.completed" } }))
            .GetProperty("id").GetString()!;
        using var published = await tenant.Http.PostAsync(
            $"/api/v1/applications/{tenant.ApplicationId}/events", Http.Json("""{"eventType":"session.completed","payload":{"n":1}}"""));
        var eventId = (await published.BodyAsync()).GetProperty("id").GetString()!;
        await Eventually.Async(async () =>
        {
            using var deliveries = await tenant.Http.GetAsync($"{tenant.WebhookPath(delivering)}/deliveries");
            return (await deliveries.BodyAsync()).GetProperty("items").GetArrayLength() == 1;
        }, TimeSpan.FromSeconds(20), "the event's delivery to exist");
        var checkedCount = 0;

        foreach (var (path, method, operation) in Operations())
        {
            if (operation["requestBody"]?["content"]?["application/json"] is not { } content
                || (string)operation["operationId"]! == ApiOperations.TestWebhook)
            {
                continue;
            }

            var active = path.Contains("{eventId}", StringComparison.Ordinal) || path.EndsWith("/recover", StringComparison.Ordinal);
            var target = path.Replace("{applicationId}", tenant.ApplicationId, StringComparison.Ordinal)
                .Replace("{webhookId}", active ? delivering : webhookId, StringComparison.Ordinal)
                .Replace("{eventId}", eventId, StringComparison.Ordinal);
            var example = content["example"]!.AsObject();
            if (example["since"] is not null)
            {
                // A fixed date falls out of the retention window as time passes; the example's shape is what is checked.
                example = example.DeepClone().AsObject();
                example["since"] = DateTimeOffset.UtcNow.AddHours(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            }

            var success = operation["responses"]!.AsObject().Select(r => r.Key).First(s => s.StartsWith('2'));

            using var accepted = await tenant.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), target) { Content = Http.Json(example.ToJsonString()) });
            Assert.True(success == ((int)accepted.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"{operation["operationId"]}: documented {success}, got {(int)accepted.StatusCode} {await accepted.Content.ReadAsStringAsync()}");

            var extra = example.DeepClone().AsObject();
            extra["undocumented"] = 1;
            using var refused = await tenant.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), target) { Content = Http.Json(extra.ToJsonString()) });
            await refused.AssertErrorAsync(400, "undocumented");

            var schemaName = ((string)content["schema"]!["$ref"]!).Split('/')[^1];
            Assert.False((bool)Document["components"]!["schemas"]![schemaName]!["additionalProperties"]!);
            checkedCount++;
        }

        Assert.Equal(8, checkedCount);
    }
}
