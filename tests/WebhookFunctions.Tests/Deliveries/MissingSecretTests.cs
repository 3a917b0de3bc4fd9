using System.Net;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>A webhook whose signing secret is gone from the store: its deliveries record why nothing was sent.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class MissingSecretTests(ApiFixture fixture)
{
    [Fact]
    public async Task A_delivery_whose_secret_is_missing_fails_on_its_schedule_with_the_reason_and_sends_once_the_secret_is_rotated()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") })).Id();

        // As an operator purging the vault by mistake would leave it: the webhook row names a version that is not there.
        var secrets = host.Services.GetRequiredService<Tables>().LocalSecrets;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {SecretNames.ForWebhook(webhookId)}");
        await foreach (var row in secrets.QueryAsync<TableEntity>(filter))
        {
            await secrets.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        }

        var eventId = await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = 1 } });
        var failed = await tenant.WaitForStatusAsync(webhookId, eventId, "FAILED");

        // The schedule of the delivery host: the first attempt and three retries, each recorded, none sent.
        var attempts = await tenant.AttemptsAsync(webhookId, eventId);
        Assert.Equal(4, failed.GetProperty("attempts").GetInt32());
        Assert.Equal(4, attempts.Count);
        Assert.All(attempts, a => Assert.Equal(AttemptProcessor.SecretMissing, a.GetProperty("error").GetString()));
        Assert.Empty(receiver.Deliveries);
        Assert.Equal(4, (await tenant.WebhookAsync(webhookId)).GetProperty("failureCount").GetInt64());

        using var rotated = await tenant.Http.PostAsync($"{tenant.WebhookPath(webhookId)}/rotate-secret", null);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        using var resend = await tenant.Http.PostAsync($"{tenant.DeliveriesPath(webhookId)}/{eventId}/resend", null);
        Assert.Equal(HttpStatusCode.Accepted, resend.StatusCode);
        await tenant.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");
        Assert.Equal(eventId, Assert.Single(receiver.Deliveries).Id);
    }
}
