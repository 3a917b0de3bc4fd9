using System.Net;
using System.Text.Json;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>Calls of the event and delivery routes the delivery tests share; every wait has a deadline.</summary>
public static class EventsApi
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static string EventsPath(this Tenant tenant) => $"/api/v1/applications/{tenant.ApplicationId}/events";

    public static string DeliveriesPath(this Tenant tenant, string webhookId) => $"{tenant.WebhookPath(webhookId)}/deliveries";

    public static string AttemptsPath(this Tenant tenant, string webhookId, string eventId) => $"{tenant.DeliveriesPath(webhookId)}/{eventId}/attempts";

    public static string Id(this JsonElement resource) => resource.GetProperty("id").GetString()!;

    /// <summary>Publishes and returns the event's id; fails the test on anything but 202.</summary>
    public static async Task<string> PublishAsync(this Tenant tenant, object body)
    {
        using var response = await tenant.Http.PostAsync(tenant.EventsPath(), Http.Json(body));
        var json = await response.BodyAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"Expected 202, got {(int)response.StatusCode}: {json}");
        return json.Id();
    }

    public static async Task<JsonElement> GetJsonAsync(this Tenant tenant, string path)
    {
        using var response = await tenant.Http.GetAsync(path);
        var json = await response.BodyAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: expected 200, got {(int)response.StatusCode}: {json}");
        return json;
    }

    /// <summary>The event's delivery to one webhook as GetEvent shows it, or null when it has none (yet).</summary>
    public static async Task<JsonElement?> DeliveryAsync(this Tenant tenant, string webhookId, string eventId)
    {
        var e = await tenant.GetJsonAsync($"{tenant.EventsPath()}/{eventId}");
        foreach (var d in e.GetProperty("deliveries").EnumerateArray())
        {
            if (d.GetProperty("webhookId").GetString() == webhookId)
            {
                return d;
            }
        }

        return null;
    }

    /// <summary>Waits until the delivery has <paramref name="status"/> and returns it; fails with the last state seen.</summary>
    public static async Task<JsonElement> WaitForStatusAsync(this Tenant tenant, string webhookId, string eventId, string status, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? Patience);
        while (true)
        {
            var last = await tenant.DeliveryAsync(webhookId, eventId);
            if (last?.GetProperty("status").GetString() == status)
            {
                return last.Value;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The delivery of {eventId} to {webhookId} is not {status} within {(within ?? Patience).TotalSeconds:0} s; last seen: {last?.ToString() ?? "none"}");
            }

            await Task.Delay(50);
        }
    }

    public static async Task<List<JsonElement>> AttemptsAsync(this Tenant tenant, string webhookId, string eventId) =>
        (await tenant.GetJsonAsync(tenant.AttemptsPath(webhookId, eventId))).GetProperty("items").EnumerateArray().ToList();

    public static Task<JsonElement> WebhookAsync(this Tenant tenant, string webhookId) => tenant.GetJsonAsync(tenant.WebhookPath(webhookId));
}
