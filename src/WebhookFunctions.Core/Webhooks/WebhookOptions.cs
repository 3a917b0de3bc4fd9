using System.ComponentModel.DataAnnotations;

namespace WebhookFunctions.Core.Webhooks;

/// <summary>Webhook settings (section <c>Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Accept plain http URLs. Development only: start-up refuses it elsewhere.</summary>
    public bool AllowInsecureUrls { get; set; }

    /// <summary>Accept localhost and private addresses (a developer's receiver). Development only.</summary>
    public bool AllowPrivateNetworks { get; set; }

    [Range(1, 1000)]
    public int MaxPerApplication { get; set; } = 20;

    /// <summary>The event catalog. Empty means the defaults, <c>session.completed</c> and <c>session.expired</c>.</summary>
    public List<string> EventTypes { get; set; } = [];
}
