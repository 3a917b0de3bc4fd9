using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace WebhookFunctions.Tests.Infrastructure;

public static class Http
{
    public static StringContent Json(string json, string mediaType = "application/json") =>
        new(json, Encoding.UTF8, new MediaTypeHeaderValue(mediaType));

    public static StringContent Json(object body) => Json(JsonSerializer.Serialize(body));

    public static async Task<JsonElement> BodyAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<HttpResponseMessage> PatchJsonAsync(this HttpClient client, string path, object body, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, path) { Content = Json(body) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await client.SendAsync(request);
    }

    /// <summary>Creates a webhook and returns the create response body; fails the test on anything but 201.</summary>
    public static async Task<JsonElement> CreateWebhookAsync(this Tenant tenant, object body)
    {
        using var response = await tenant.Http.PostAsync(tenant.WebhooksPath, Json(body));
        var json = await response.BodyAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"Expected 201, got {(int)response.StatusCode}: {json}");
        return json;
    }

    public static string UniqueUrl() => $"https://hooks.example.com/{Guid.NewGuid():N}";

    /// <summary>Asserts the error envelope: status, code, a request id, and details when <paramref name="field"/> is given.</summary>
    public static async Task<JsonElement> AssertErrorAsync(this HttpResponseMessage response, int status, string? field = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {text}");
        var body = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(status, body.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetString()));
        Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        Assert.Equal(response.Headers.GetValues("x-request-id").Single(), body.GetProperty("requestId").GetString());
        if (field is not null)
        {
            var fields = body.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("field").GetString()).ToList();
            Assert.Contains(field, fields);
        }

        return body;
    }
}
