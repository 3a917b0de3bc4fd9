using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace WebhookFunctions.Development;

/// <summary>
/// The standalone host as a separate process on a free loopback port, in Development, with no
/// Azurite of its own and no demo data. For what must be done to the host from outside: the tests
/// that kill it with SIGKILL or measure its memory, and the benchmark that times its start.
/// </summary>
public sealed class StandaloneProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private StandaloneProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>Everything the host has written so far, stdout and stderr interleaved as read.</summary>
    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts <c>WebhookFunctions.Standalone.dll</c> from <paramref name="directory"/> and returns once
    /// <c>/api/health</c> answers 200. <paramref name="settings"/> are <c>Section:Key=value</c>.
    /// </summary>
    public static async Task<StandaloneProcess> StartAsync(string directory, IEnumerable<string> settings, CancellationToken cancellationToken) =>
        await StartAsync(directory, settings, AzuriteProcess.FreePort(), cancellationToken);

    /// <inheritdoc cref="StartAsync(string, IEnumerable{string}, CancellationToken)"/>
    /// <param name="port">The loopback port to listen on, for callers that must name the URL in settings.</param>
    public static async Task<StandaloneProcess> StartAsync(string directory, IEnumerable<string> settings, int port, CancellationToken cancellationToken)
    {
        var host = Launch(directory, settings, port);
        using var probe = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var elapsed = Stopwatch.StartNew();
        while (elapsed.Elapsed < StartTimeout)
        {
            if (host.HasExited)
            {
                var exitCode = host._process.ExitCode;
                await host._process.WaitForExitAsync(cancellationToken);
                var output = host.Output;
                await host.DisposeAsync();
                throw new InvalidOperationException($"The standalone host exited with {exitCode} on start. Its output:\n{output}");
            }

            try
            {
                using var health = await probe.GetAsync(new Uri("/api/health", UriKind.Relative), cancellationToken);
                if (health.IsSuccessStatusCode)
                {
                    return host;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(10, cancellationToken);
        }

        await host.DisposeAsync();
        throw new TimeoutException($"The standalone host did not answer /api/health within {StartTimeout.TotalSeconds} s.");
    }

    /// <summary>
    /// Starts the host and returns at once, without waiting for it to answer: for what must be
    /// watched from its first line, such as a start that is meant to fail.
    /// </summary>
    public static StandaloneProcess Launch(string directory, IEnumerable<string> settings, int port)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.ArgumentList.Add(Path.Combine(directory, "WebhookFunctions.Standalone.dll"));
        foreach (var setting in new[] { $"Urls=http://127.0.0.1:{port}", "Development:StartAzurite=false", "Development:SeedDemo=false", "Logging:LogLevel:Default=Warning" }
                     .Concat(settings))
        {
            start.ArgumentList.Add("--" + setting);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the standalone host.");
        var host = new StandaloneProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { host._output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { host._output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>The first output line matching <paramref name="match"/>, waiting at most <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForOutputAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            var line = _output.FirstOrDefault(match);
            if (line is not null)
            {
                return line;
            }

            if (elapsed.Elapsed > timeout || _process.HasExited)
            {
                if (_process.HasExited)
                {
                    // Exited means no more lines once the pipes are read to the end.
                    using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await _process.WaitForExitAsync(drain.Token);
                }

                return _output.FirstOrDefault(match)
                    ?? throw new TimeoutException($"No matching output within {timeout.TotalSeconds} s (exited: {_process.HasExited}). Output so far:\n{Output}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Waits for the host to exit on its own, at most <paramref name="timeout"/>, and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The standalone host was still running after {timeout.TotalSeconds} s. Output so far:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, exactly like a crashed or evicted instance.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public long WorkingSetBytes()
    {
        _process.Refresh();
        return _process.WorkingSet64;
    }

    /// <summary>The peak resident set (VmHWM on Linux); the working set alone shows only the present.</summary>
    public long PeakResidentBytes()
    {
        var status = $"/proc/{_process.Id}/status";
        var line = File.Exists(status) ? File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)) : null;
        if (line is null)
        {
            _process.Refresh();
            return _process.PeakWorkingSet64;
        }

        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }
}
