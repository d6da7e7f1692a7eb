using System.ComponentModel.DataAnnotations;

namespace CaptionSidecar.Audio;

/// <summary>Where audio comes from and how it is cut into chunks. Bound from the <c>Audio</c> section and the CLI.</summary>
public sealed class AudioOptions
{
    public const string Section = "Audio";

    /// <summary>
    /// The input: <c>default</c> (OS default device), <c>device:NAME</c>, <c>file:PATH</c> (WAV), <c>stdin</c>
    /// (raw s16le, see <see cref="InputRate"/> and <see cref="InputChannels"/>), or <c>cmd:COMMAND</c> (a process
    /// whose stdout is raw s16le).
    /// </summary>
    [Required]
    public string Input { get; set; } = "default";

    /// <summary>Sample rate of raw s16le input (<c>stdin</c>, <c>cmd:</c>). Default 48000.</summary>
    [Range(8_000, 384_000)]
    public int InputRate { get; set; } = 48_000;

    /// <summary>Channel count of raw s16le input (<c>stdin</c>, <c>cmd:</c>). Default 1.</summary>
    [Range(1, 8)]
    public int InputChannels { get; set; } = 1;

    /// <summary>Length of one chunk sent to the Realtime sessions, in milliseconds. Default 20.</summary>
    [Range(10, 200)]
    public int ChunkMilliseconds { get; set; } = 20;

    /// <summary>Feed file input as fast as the sessions accept it instead of in real time.</summary>
    public bool NoPacing { get; set; }

    /// <summary>Chunks the capture-to-network queue holds before its full policy applies. Default 500 (10 s at 20 ms).</summary>
    [Range(10, 100_000)]
    public int QueueCapacity { get; set; } = 500;

    /// <summary>The local voice gate that holds silence back from the paid sessions (<c>Audio:VoiceGate</c>).</summary>
    public VoiceGateOptions VoiceGate { get; set; } = new();

    /// <summary>These options with another input (a speaker's).</summary>
    internal AudioOptions WithInput(string input)
    {
        var copy = (AudioOptions)MemberwiseClone();
        copy.Input = input;
        return copy;
    }
}
