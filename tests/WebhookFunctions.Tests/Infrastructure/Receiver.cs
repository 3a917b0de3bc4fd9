using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>
/// A webhook receiver on loopback. It records what arrives and checks signatures with its own
/// Standard Webhooks verification, written from the specification, not with the project's signer.
/// Paths: /ok (204), /fail (500), /hang (never answers), /redirect (302 to /ok), /huge (endless body),
/// /echo (200 with the request body), /verify-echo (answers a <c>webhook.verification</c> challenge with
/// <c>{"challenge": ...}</c>, anything else 204), /verify-wrong (answers a challenge with a different value). Any other path answers 204 unless a test scripted it with
/// <see cref="Script(string, int[])"/> or <see cref="Respond"/>.
/// </summary>
public sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Func<Delivery, int, Answer>> _scripts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    private Receiver(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public ConcurrentQueue<Delivery> Deliveries { get; } = new();

    public int Port => BaseAddress.Port;

    public string Url(string path) => new Uri(BaseAddress, path).ToString();

    /// <summary>Answers requests to <paramref name="path"/> with these statuses in turn; once they run out, the last one repeats.</summary>
    public void Script(string path, params int[] statuses) => Script(path, statuses.Select(s => new Answer(s)).ToArray());

    /// <summary>Answers requests to <paramref name="path"/> with these answers in turn; once they run out, the last one repeats.</summary>
    public void Script(string path, params Answer[] answers) => Respond(path, (_, n) => answers[Math.Min(n, answers.Length - 1)]);

    /// <summary>Answers requests to <paramref name="path"/> with what <paramref name="answer"/> makes of the request and its 0-based number on that path.</summary>
    public void Respond(string path, Func<Delivery, int, Answer> answer) => _scripts[path] = answer;

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(["--urls=http://127.0.0.1:0"]);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        Receiver? receiver = null;
        app.Run(async context =>
        {
            var receivedAt = DateTimeOffset.UtcNow;
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var delivery = new Delivery(
                context.Request.Path,
                context.Request.Headers["webhook-id"].ToString(),
                context.Request.Headers["webhook-timestamp"].ToString(),
                context.Request.Headers["webhook-signature"].ToString(),
                context.Request.ContentType,
                body) { ReceivedAt = receivedAt };
            receiver!.Deliveries.Enqueue(delivery);
            if (receiver._scripts.TryGetValue(delivery.Path, out var script))
            {
                var n = receiver._calls.AddOrUpdate(delivery.Path, 0, (_, previous) => previous + 1);
                await AnswerAsync(context, script(delivery, n));
                return;
            }

            switch (context.Request.Path.Value)
            {
                case "/fail":
                    context.Response.StatusCode = 500;
                    break;
                case "/hang":
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                    break;
                case "/redirect":
                    context.Response.Redirect("/ok");
                    break;
                case "/huge":
                    context.Response.StatusCode = 200;
                    var chunk = new byte[64 * 1024];
                    for (var i = 0; i < 10_000 && !context.RequestAborted.IsCancellationRequested; i++)
                    {
                        await context.Response.Body.WriteAsync(chunk, context.RequestAborted).AsTask().ContinueWith(_ => { }, TaskScheduler.Default);
                    }

                    break;
                case "/echo":
                    await AnswerAsync(context, new Answer(200, Body: body));
                    break;
                case "/verify-echo":
                    await AnswerAsync(context, ChallengeOf(body) is { } challenge
                        ? new Answer(200, Body: System.Text.Json.JsonSerializer.Serialize(new { challenge }))
                        : new Answer(204));
                    break;
                case "/verify-wrong":
                    await AnswerAsync(context, new Answer(200, Body: System.Text.Json.JsonSerializer.Serialize(new { challenge = "not-" + ChallengeOf(body) })));
                    break;
                default:
                    context.Response.StatusCode = 204;
                    break;
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver = new Receiver(app, new Uri(address));
        return receiver;
    }

    /// <summary>The challenge of a <c>webhook.verification</c> message, or null for any other body.</summary>
    public static string? ChallengeOf(string body)
    {
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("type", out var type) && type.GetString() == "webhook.verification"
                ? json.RootElement.GetProperty("data").GetProperty("challenge").GetString()
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>The verification link of a <c>webhook.verification</c> message, or null for any other body.</summary>
    public static string? VerificationUrlOf(string body)
    {
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("type", out var type) && type.GetString() == "webhook.verification"
                ? json.RootElement.GetProperty("data").GetProperty("verificationUrl").GetString()
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static async Task AnswerAsync(HttpContext context, Answer answer)
    {
        if (answer.Delay > TimeSpan.Zero)
        {
            await Task.Delay(answer.Delay, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        context.Response.StatusCode = answer.Status;
        if (answer.RetryAfter is not null)
        {
            context.Response.Headers.RetryAfter = answer.RetryAfter;
        }

        if (answer.Body is not null && !context.RequestAborted.IsCancellationRequested)
        {
            await context.Response.WriteAsync(answer.Body, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>What the receiver answers one request with: a status, optionally a Retry-After value, a pause before answering and a body.</summary>
public sealed record Answer(int Status, string? RetryAfter = null, TimeSpan Delay = default, string? Body = null);

public sealed record Delivery(string Path, string Id, string Timestamp, string Signatures, string? ContentType, string Body)
{
    /// <summary>When the request arrived, by the receiver's own clock.</summary>
    public DateTimeOffset ReceivedAt { get; init; }

    /// <summary>Standard Webhooks verification: any v1 signature in the header that matches the secret passes.</summary>
    public bool VerifiesWith(string secret)
    {
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret);
        var expected = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{Id}.{Timestamp}.{Body}"));
        foreach (var entry in Signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = entry.Split(',', 2);
            if (parts.Length == 2 && parts[0] == "v1" && CryptographicOperations.FixedTimeEquals(expected, Convert.FromBase64String(parts[1])))
            {
                return true;
            }
        }

        return false;
    }
}
