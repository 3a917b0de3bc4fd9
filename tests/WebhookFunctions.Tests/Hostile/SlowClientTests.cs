using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Hostile;

/// <summary>A client that sends its body slower than the request deadline is at fault: 408, not the 504 of a slow dependency.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class SlowClientTests(ApiFixture fixture)
{
    [Fact]
    public async Task A_body_trickling_in_past_the_deadline_is_408_with_the_envelope()
    {
        await using var host = await fixture.StartHostAsync("Api:RequestTimeoutSeconds=2");
        var tenant = await host.NewTenantAsync();
        var body = Encoding.UTF8.GetBytes($"{{\"name\":\"{new string('s', 100)}\"}}");

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, host.BaseAddress.Port);
        var stream = client.GetStream();
        var head = "POST /api/v1/applications HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + $"Authorization: Bearer {tenant.ApiKey}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));

        var elapsed = Stopwatch.StartNew();
        var response = RawHttp.ReadResponseAsync(stream, TimeSpan.FromSeconds(20));
        for (var sent = 0; sent < body.Length - 1 && !response.IsCompleted; sent++)
        {
            // One byte every 200 ms: the whole body would take 20 s, ten times the deadline.
            try
            {
                await stream.WriteAsync(body.AsMemory(sent, 1));
            }
            catch (IOException)
            {
                break;
            }

            await Task.WhenAny(response, Task.Delay(200));
        }

        var answer = await response;
        Assert.True(answer.Status == 408, $"Expected 408, got {answer.Status}: {answer.Body}");
        Assert.InRange(elapsed.Elapsed.TotalSeconds, 1.5, 10);
        var envelope = JsonDocument.Parse(answer.Body).RootElement;
        Assert.Equal(408, envelope.GetProperty("code").GetInt32());
        Assert.Equal("Request Timeout", envelope.GetProperty("error").GetString());
        Assert.Equal(answer.Headers["x-request-id"], envelope.GetProperty("requestId").GetString());
        Assert.DoesNotContain("downstream", envelope.GetProperty("message").GetString()!, StringComparison.OrdinalIgnoreCase);
    }
}
