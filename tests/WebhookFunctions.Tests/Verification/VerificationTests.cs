using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using WebhookFunctions.Tests.Deliveries;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Verification;

/// <summary>
/// Ownership verification (SPEC §8) through the HTTP surface: the challenge a receiver gets, the two ways its owner
/// agrees (echo, or the single-use link), and what happens to deliveries meanwhile.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class VerificationTests(ApiFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly object Completed = new { eventType = "session.completed", payload = new { sessionId = "cs_1" } };

    private Task<TestHost> StartAsync(params string[] settings) =>
        fixture.StartDeliveryHostAsync(["Webhooks:RequireVerification=true", .. settings]);

    [Fact]
    public async Task A_receiver_that_echoes_the_signed_challenge_becomes_verified()
    {
        await using var host = await StartAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = receiver.Url("/verify-echo") });
        var webhookId = created.Id();

        Assert.Equal("PENDING", created.GetProperty("verificationStatus").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("verifiedAt").ValueKind);
        var webhook = await WaitForStatusAsync(tenant, webhookId, "VERIFIED");
        Assert.NotEqual(JsonValueKind.Null, webhook.GetProperty("verifiedAt").ValueKind);

        var challenge = Assert.Single(receiver.Deliveries, d => d.Path == "/verify-echo");
        Assert.True(challenge.VerifiesWith(created.GetProperty("signingSecret").GetString()!), "the challenge is signed as any delivery is");
        Assert.Equal("application/json", challenge.ContentType);
        using var body = JsonDocument.Parse(challenge.Body);
        Assert.Equal("webhook.verification", body.RootElement.GetProperty("type").GetString());
        Assert.True(body.RootElement.TryGetProperty("timestamp", out _));
        Assert.Matches("^[A-Za-z0-9_-]{43}$", body.RootElement.GetProperty("data").GetProperty("challenge").GetString()!);
        var link = body.RootElement.GetProperty("data").GetProperty("verificationUrl").GetString()!;
        Assert.StartsWith(new Uri(host.BaseAddress, "/api/v1/verifications/").ToString(), link);
    }

    [Theory]
    [InlineData("/verify-wrong")]
    [InlineData("/fail")]
    [InlineData("/hang")]
    public async Task A_wrong_echo_an_error_or_no_answer_within_10_s_leaves_the_webhook_pending(string path)
    {
        await using var host = await StartAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url(path) })).Id();

        await Eventually.Async(() => receiver.Deliveries.Any(d => d.Path == path), Patience, "the challenge arrives");
        // Past the challenge's 10 s deadline, so a late answer could not count either.
        await Task.Delay(TimeSpan.FromSeconds(path == "/hang" ? 11 : 2));

        var webhook = await tenant.WebhookAsync(webhookId);
        Assert.Equal("PENDING", webhook.GetProperty("verificationStatus").GetString());
        Assert.Single(receiver.Deliveries, d => d.Path == path);
    }

    [Fact]
    public async Task The_verification_link_works_once_without_a_key_and_then_answers_404()
    {
        await using var host = await StartAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") })).Id();
        var link = await LinkAsync(receiver, "/ok");
        using var anonymous = new HttpClient();

        using (var first = await anonymous.GetAsync(link))
        {
            var json = await first.BodyAsync();
            Assert.True(first.StatusCode == HttpStatusCode.OK, json.ToString());
            Assert.Equal(webhookId, json.GetProperty("webhookId").GetString());
            Assert.Equal("VERIFIED", json.GetProperty("verificationStatus").GetString());
        }

        Assert.Equal("VERIFIED", (await tenant.WebhookAsync(webhookId)).GetProperty("verificationStatus").GetString());
        using var second = await anonymous.GetAsync(link);
        await second.AssertErrorAsync(404);
    }

    [Fact]
    public async Task The_verification_link_expires_after_an_hour()
    {
        await using var host = await StartAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") })).Id();
        var link = await LinkAsync(receiver, "/ok");

        host.Clock.Advance(TimeSpan.FromMinutes(61));
        using var anonymous = new HttpClient();
        using var late = await anonymous.GetAsync(link);

        await late.AssertErrorAsync(404);
        Assert.Equal("PENDING", (await tenant.WebhookAsync(webhookId)).GetProperty("verificationStatus").GetString());
    }

    [Fact]
    public async Task Changing_the_url_makes_a_verified_webhook_pending_and_sends_the_new_url_a_challenge()
    {
        await using var host = await StartAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/verify-echo") })).Id();
        await WaitForStatusAsync(tenant, webhookId, "VERIFIED");

        using var patched = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(webhookId), new { url = receiver.Url("/ok") });
        var json = await patched.BodyAsync();
        Assert.True(patched.StatusCode == HttpStatusCode.OK, json.ToString());
        Assert.Equal("PENDING", json.GetProperty("verificationStatus").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("verifiedAt").ValueKind);

        var link = await LinkAsync(receiver, "/ok");
        using var anonymous = new HttpClient();
        using var opened = await anonymous.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        Assert.Equal("VERIFIED", (await tenant.WebhookAsync(webhookId)).GetProperty("verificationStatus").GetString());

        // A change that leaves the URL alone asks nothing.
        using var described = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(webhookId), new { description = "same url" });
        Assert.Equal("VERIFIED", (await described.BodyAsync()).GetProperty("verificationStatus").GetString());
        await Task.Delay(1000);
        Assert.Single(receiver.Deliveries, d => d.Path == "/ok");
    }

    [Fact]
    public async Task Deliveries_wait_while_pending_and_go_out_at_once_on_verification_as_their_first_attempt()
    {
        // A recheck far longer than the test: only the release on verification can send them in time.
        await using var host = await StartAsync("Webhooks:VerificationRecheck=10m");
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") })).Id();
        var link = await LinkAsync(receiver, "/ok");

        var events = new[] { await tenant.PublishAsync(Completed), await tenant.PublishAsync(Completed), await tenant.PublishAsync(Completed) };
        await Eventually.Async(async () =>
        {
            foreach (var id in events)
            {
                if ((await tenant.DeliveryAsync(webhookId, id))?.GetProperty("nextAttemptAt").GetDateTimeOffset() is not { } next
                    || next < DateTimeOffset.UtcNow + TimeSpan.FromMinutes(5))
                {
                    return false;
                }
            }

            return true;
        }, Patience, "every delivery is parked until the recheck");
        foreach (var id in events)
        {
            var parked = (await tenant.DeliveryAsync(webhookId, id))!.Value;
            Assert.Equal("PENDING", parked.GetProperty("status").GetString());
            Assert.Equal(0, parked.GetProperty("attempts").GetInt32());
        }

        Assert.Single(receiver.Deliveries, d => d.Path == "/ok");

        using var anonymous = new HttpClient();
        using var opened = await anonymous.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        foreach (var id in events)
        {
            var delivered = await tenant.WaitForStatusAsync(webhookId, id, "SUCCEEDED", TimeSpan.FromSeconds(15));
            Assert.Equal(1, delivered.GetProperty("attempts").GetInt32());
            var attempt = Assert.Single(await tenant.AttemptsAsync(webhookId, id));
            Assert.Equal(1, attempt.GetProperty("attempt").GetInt32());
            Assert.Equal("scheduled", attempt.GetProperty("trigger").GetString());
        }

        await Task.Delay(1000);
        Assert.Equal(events.Order(), receiver.Deliveries.Where(d => d.Path == "/ok" && Receiver.ChallengeOf(d.Body) is null).Select(d => d.Id).Order());
    }

    [Fact]
    public async Task Parked_messages_that_come_up_beside_the_release_send_nothing_twice()
    {
        // Rechecks every second, so parked messages keep coming up while the release enqueues the same attempts.
        await using var host = await StartAsync("Webhooks:VerificationRecheck=1s");
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") })).Id();
        var link = await LinkAsync(receiver, "/ok");
        var events = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            events.Add(await tenant.PublishAsync(Completed));
        }

        await Task.Delay(2500);
        using var anonymous = new HttpClient();
        using var opened = await anonymous.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        foreach (var id in events)
        {
            await tenant.WaitForStatusAsync(webhookId, id, "SUCCEEDED");
        }

        await Task.Delay(2500);
        var sent = receiver.Deliveries.Where(d => d.Path == "/ok" && Receiver.ChallengeOf(d.Body) is null).Select(d => d.Id).ToList();
        Assert.Equal(events.Order(), sent.Order());
        foreach (var id in events)
        {
            Assert.Equal([1], (await tenant.AttemptsAsync(webhookId, id)).Select(a => a.GetProperty("attempt").GetInt32()));
        }
    }

    [Fact]
    public async Task Deliveries_still_waiting_when_the_window_ends_are_skipped_as_webhook_unverified()
    {
        await using var host = await StartAsync("Webhooks:VerificationRecheck=1s");
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") })).Id();
        var eventId = await tenant.PublishAsync(Completed);
        await Eventually.Async(async () => (await tenant.DeliveryAsync(webhookId, eventId)) is not null, Patience, "the delivery exists");
        await Task.Delay(2500);
        Assert.Equal("PENDING", (await tenant.DeliveryAsync(webhookId, eventId))!.Value.GetProperty("status").GetString());

        host.Clock.Advance(TimeSpan.FromHours(72) + TimeSpan.FromMinutes(1));
        var skipped = await tenant.WaitForStatusAsync(webhookId, eventId, "SKIPPED");

        Assert.Equal("webhook_unverified", skipped.GetProperty("skippedReason").GetString());
        Assert.Equal(0, skipped.GetProperty("attempts").GetInt32());
        Assert.Empty(await tenant.AttemptsAsync(webhookId, eventId));
        Assert.DoesNotContain(receiver.Deliveries, d => d.Id == eventId);
    }

    [Fact]
    public async Task Neither_the_challenge_nor_the_link_token_is_stored_in_clear()
    {
        await using var host = await StartAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") })).Id();
        var link = await LinkAsync(receiver, "/ok");
        var challenge = Receiver.ChallengeOf(receiver.Deliveries.Single(d => d.Path == "/ok").Body)!;
        var token = link[(link.LastIndexOf('/') + 1)..];

        var service = new TableServiceClient(fixture.ConnectionString);
        var rows = new List<TableEntity>();
        foreach (var table in new[] { "Webhooks", "Verifications" })
        {
            await foreach (var row in service.GetTableClient(table).QueryAsync<TableEntity>())
            {
                rows.Add(row);
            }
        }

        var values = rows.SelectMany(r => r.Select(kv => kv.Value?.ToString() ?? string.Empty).Append(r.PartitionKey).Append(r.RowKey)).ToList();
        Assert.DoesNotContain(values, v => v.Contains(challenge, StringComparison.Ordinal));
        Assert.DoesNotContain(values, v => v.Contains(token, StringComparison.Ordinal));
        var webhookRow = rows.Single(r => r.GetString("WebhookId") == webhookId && r.ContainsKey("Url"));
        Assert.Equal(Sha256(challenge), webhookRow.GetString("VerificationChallengeHash"));
        Assert.Equal(Sha256(token), webhookRow.GetString("VerificationTokenHash"));
    }

    [Fact]
    public async Task VerifyWebhook_answers_202_and_sends_a_new_challenge_whose_link_replaces_the_old_one()
    {
        await using var host = await StartAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") })).Id();
        var firstLink = await LinkAsync(receiver, "/ok");

        using var asked = await tenant.Http.PostAsync(tenant.WebhookPath(webhookId) + "/verify", null);
        var json = await asked.BodyAsync();
        Assert.True(asked.StatusCode == HttpStatusCode.Accepted, json.ToString());
        Assert.Equal("PENDING", json.GetProperty("verificationStatus").GetString());
        await Eventually.Async(() => receiver.Deliveries.Count(d => d.Path == "/ok") == 2, Patience, "a second challenge arrives");
        var secondLink = Receiver.VerificationUrlOf(receiver.Deliveries.Where(d => d.Path == "/ok").Last().Body)!;
        Assert.NotEqual(firstLink, secondLink);

        using var anonymous = new HttpClient();
        using (var stale = await anonymous.GetAsync(firstLink))
        {
            await stale.AssertErrorAsync(404);
        }

        using (var opened = await anonymous.GetAsync(secondLink))
        {
            Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        }

        using var again = await tenant.Http.PostAsync(tenant.WebhookPath(webhookId) + "/verify", null);
        await again.AssertErrorAsync(409);
    }

    [Fact]
    public async Task Another_merchant_cannot_ask_for_a_challenge()
    {
        await using var host = await StartAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var other = await host.NewTenantAsync("Other merchant");
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") })).Id();
        await LinkAsync(receiver, "/ok");

        using var asked = await other.Http.PostAsync(tenant.WebhookPath(webhookId) + "/verify", null);
        await asked.AssertErrorAsync(403);
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };
        using var keyless = await anonymous.PostAsync(tenant.WebhookPath(webhookId) + "/verify", null);
        await keyless.AssertErrorAsync(401);

        await Task.Delay(1500);
        Assert.Single(receiver.Deliveries, d => d.Path == "/ok");
    }

    [Fact]
    public async Task A_duplicate_challenge_message_sends_nothing_and_leaves_the_link_working()
    {
        var queues = $"t{Guid.NewGuid():N}";
        await using var host = await StartAsync($"Delivery:QueuePrefix={queues}");
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") })).Id();
        var link = await LinkAsync(receiver, "/ok");
        var row = (await new TableServiceClient(fixture.ConnectionString).GetTableClient("Webhooks")
            .QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"WebhookId eq {webhookId}")).ToListAsync()).Single(r => r.ContainsKey("Url"));

        var queue = new QueueClient(fixture.ConnectionString, queues + "-verifications", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.SendMessageAsync(JsonSerializer.Serialize(new
        {
            merchantId = tenant.MerchantId, applicationId = tenant.ApplicationId, webhookId, nonce = row.GetString("VerificationNonce"),
        }));
        await Eventually.Async(async () => (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, Patience, "the duplicate is handled");
        await Task.Delay(1000);

        Assert.Single(receiver.Deliveries, d => d.Path == "/ok");
        using var anonymous = new HttpClient();
        using var opened = await anonymous.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
    }

    [Fact]
    public async Task TestWebhook_reaches_a_pending_webhook()
    {
        await using var host = await StartAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") })).Id();

        using var tested = await tenant.Http.PostAsync(tenant.WebhookPath(webhookId) + "/test", null);
        var json = await tested.BodyAsync();

        Assert.True(tested.StatusCode == HttpStatusCode.OK, json.ToString());
        Assert.Equal("SUCCEEDED", json.GetProperty("status").GetString());
        Assert.Equal("PENDING", (await tenant.WebhookAsync(webhookId)).GetProperty("verificationStatus").GetString());
    }

    [Fact]
    public async Task ResendDelivery_to_a_pending_webhook_is_a_409_and_sends_nothing()
    {
        await using var host = await StartAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") })).Id();
        var eventId = await tenant.PublishAsync(Completed);
        await Eventually.Async(async () => await tenant.DeliveryAsync(webhookId, eventId) is not null, Patience, "the delivery is fanned out");

        using var resend = await tenant.Http.PostAsync($"{tenant.DeliveriesPath(webhookId)}/{eventId}/resend", null);
        await resend.AssertErrorAsync(409, "verificationStatus");
        await Task.Delay(1000);

        // Only the challenge reached the endpoint.
        Assert.All(receiver.Deliveries, d => Assert.NotEqual(eventId, d.Id));
        Assert.Empty(await tenant.AttemptsAsync(webhookId, eventId));
    }

    private static async Task<JsonElement> WaitForStatusAsync(Tenant tenant, string webhookId, string status)
    {
        JsonElement last = default;
        await Eventually.Async(async () =>
        {
            last = await tenant.WebhookAsync(webhookId);
            return last.GetProperty("verificationStatus").GetString() == status;
        }, Patience, () => $"webhook {webhookId} is not {status}: {last}");
        return last;
    }

    /// <summary>The link of the first challenge that reached <paramref name="path"/>.</summary>
    private static async Task<string> LinkAsync(Receiver receiver, string path)
    {
        await Eventually.Async(() => receiver.Deliveries.Any(d => d.Path == path && Receiver.VerificationUrlOf(d.Body) is not null), Patience, "the challenge arrives");
        return Receiver.VerificationUrlOf(receiver.Deliveries.First(d => d.Path == path && Receiver.VerificationUrlOf(d.Body) is not null).Body)!;
    }

    private static string Sha256(string value) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(value)));
}
