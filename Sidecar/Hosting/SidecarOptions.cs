using System.ComponentModel.DataAnnotations;

namespace CaptionSidecar.Hosting;

/// <summary>Process-wide settings: which engine runs and how the process ends. Bound from the <c>Sidecar</c> section.</summary>
public sealed class SidecarOptions
{
    public const string Section = "Sidecar";

    /// <summary>Engine names accepted by <see cref="Engine"/>.</summary>
    public static readonly IReadOnlyList<string> EngineNames = ["auto", "openai", "test-pattern"];

    /// <summary>
    /// <c>openai</c> (live captions through the Realtime API), <c>test-pattern</c> (sample captions, no key needed), or
    /// <c>auto</c> (default): <c>openai</c> when an API key is configured, else <c>test-pattern</c>.
    /// </summary>
    [Required, RegularExpression("^(auto|openai|test-pattern)$", ErrorMessage = "Engine must be 'openai', 'test-pattern' or 'auto'.")]
    public string Engine { get; set; } = "auto";

    /// <summary>With file or stdin input: finish the last caption, flush the outputs, and exit when the input ends.</summary>
    public bool ExitAtEnd { get; set; }

    /// <summary>Per-user data folder (logs). Default: the OS's per-user application data folder + <c>CaptionSidecar</c>.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Days of daily log files kept. Default 14.</summary>
    [Range(1, 365)]
    public int LogRetainedDays { get; set; } = 14;

    /// <summary>Size cap of one log file in megabytes; a bigger day rolls into a new file. Default 20.</summary>
    [Range(1, 1024)]
    public int LogFileSizeLimitMegabytes { get; set; } = 20;
}
