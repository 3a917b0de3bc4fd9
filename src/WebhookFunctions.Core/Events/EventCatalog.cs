using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Events;

/// <summary>The event types a webhook may subscribe to, from configuration.</summary>
public sealed class EventCatalog
{
    public const string All = "*";

    /// <summary>Published by the service itself when it disables a webhook; always in the catalog.</summary>
    public const string WebhookDisabled = "webhook.disabled";
    public static readonly IReadOnlyList<string> Defaults = ["session.completed", "session.expired"];

    private readonly HashSet<string> _names;

    public EventCatalog(IOptions<WebhookOptions> options)
    {
        var configured = options.Value.EventTypes.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n.Trim()).Distinct(StringComparer.Ordinal).ToList();
        Names = [.. (configured.Count > 0 ? configured : Defaults).Where(n => n != WebhookDisabled), WebhookDisabled];
        _names = new HashSet<string>(Names, StringComparer.Ordinal);
    }

    public IReadOnlyList<string> Names { get; }

    public bool Contains(string name) => _names.Contains(name);
}

public sealed record EventTypeResponse(string Name);

public sealed record EventTypeList(IReadOnlyList<EventTypeResponse> Items);
