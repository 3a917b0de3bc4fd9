using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebhookFunctions.Bench;

/// <summary>One message that reached the receiver: which event (the webhook-id header), on which path, and when (Stopwatch ticks).</summary>
public readonly record struct Arrival(string EventId, string Path, long At);

/// <summary>
/// A webhook endpoint on loopback that answers 204 at once and notes when each message arrived, so
/// deliveries per second and publish-to-arrival latency are measured where the merchant would see them.
/// </summary>
public sealed class BenchReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private ConcurrentQueue<Arrival> _arrivals = new();

    private BenchReceiver(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public int Count => _arrivals.Count;

    public static async Task<BenchReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(["--urls=http://127.0.0.1:0"]);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new BenchReceiver(app);
        app.Run(async context =>
        {
            var at = Stopwatch.GetTimestamp();
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            receiver._arrivals.Enqueue(new Arrival(context.Request.Headers["webhook-id"].ToString(), context.Request.Path.Value ?? string.Empty, at));
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        await app.StartAsync();
        receiver.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return receiver;
    }

    /// <summary>Everything that arrived since the last call, and a fresh record from now on.</summary>
    public IReadOnlyList<Arrival> Take() => [.. Interlocked.Exchange(ref _arrivals, new ConcurrentQueue<Arrival>())];

    /// <summary>Waits until <paramref name="count"/> messages have arrived since the last <see cref="Take"/>, or the deadline passes.</summary>
    public async Task<bool> WaitForAsync(int count, TimeSpan within)
    {
        var elapsed = Stopwatch.StartNew();
        while (_arrivals.Count < count)
        {
            if (elapsed.Elapsed > within)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
