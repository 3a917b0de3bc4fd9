namespace WebhookFunctions.Admin;

/// <summary>A parsed command line: the command words, <c>--name value</c> options and <c>--json</c>.</summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, string> _options;

    private CommandLine(string[] words, Dictionary<string, string> options, bool json)
    {
        Words = words;
        _options = options;
        Json = json;
    }

    public string[] Words { get; }

    public bool Json { get; }

    public static CommandLine Parse(string[] args)
    {
        var words = new List<string>();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var json = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--json")
            {
                json = true;
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new UsageException($"{arg} needs a value.");
                }

                if (!options.TryAdd(arg[2..], args[++i]))
                {
                    throw new UsageException($"{arg} is given twice.");
                }
            }
            else
            {
                words.Add(arg);
            }
        }

        return new CommandLine([.. words], options, json);
    }

    public string Required(string name) =>
        _options.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value)
            ? value
            : throw new UsageException($"--{name} is required.");

    public string? Optional(string name) => _options.GetValueOrDefault(name);

    /// <summary>Refuses options the command does not take, so a typo is not silently ignored.</summary>
    public void AllowOnly(params string[] names)
    {
        var unknown = _options.Keys.Except(names, StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new UsageException($"Unknown option --{unknown[0]}.");
        }
    }
}

public sealed class UsageException(string message) : Exception(message)
{
    public UsageException() : this("Bad arguments.")
    {
    }

    public UsageException(string message, Exception innerException) : this(message + " " + innerException.Message)
    {
    }
}
