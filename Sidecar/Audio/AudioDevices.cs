using System.Globalization;
using System.Text;

namespace CaptionSidecar.Audio;

/// <summary>A capture input the OS offers.</summary>
/// <param name="Id">The name <c>--input device:ID</c> takes (PulseAudio source name; on Windows the endpoint id, with <c>loopback:</c> before an output's).</param>
/// <param name="Description">The human name the sound settings show.</param>
/// <param name="IsDefault">True for the OS default input (what <c>--input default</c> opens).</param>
/// <param name="SampleRate">The device's native rate in Hz.</param>
/// <param name="Channels">The device's native channel count.</param>
/// <param name="IsMonitor">True for a monitor/loopback: what the computer plays, not a microphone.</param>
public sealed record AudioDevice(string Id, string Description, bool IsDefault, int SampleRate, int Channels, bool IsMonitor);

/// <summary>Lists capture inputs and resolves the name given to <c>--input device:NAME</c>.</summary>
public static class AudioDevices
{
    /// <summary>Lists the capture inputs of this machine.</summary>
    /// <exception cref="IOException">The sound server cannot be asked; the message says what to do.</exception>
    /// <exception cref="PlatformNotSupportedException">Listing is not built for this OS.</exception>
    public static IReadOnlyList<AudioDevice> List()
    {
        if (OperatingSystem.IsLinux())
        {
            return PulseAudioDevices.List();
        }

        if (OperatingSystem.IsWindows())
        {
            return Wasapi.WasapiDevices.List();
        }

        throw new PlatformNotSupportedException(
            "Listing audio devices is built for Linux (PulseAudio/PipeWire) and Windows (WASAPI); on macOS capture with ffmpeg through --input cmd:\"...\" (see README, 'Choosing an audio device').");
    }

    /// <summary>
    /// Finds <paramref name="name"/> among <paramref name="devices"/>: an exact id first, then the one device with
    /// that whole description, else the one device whose id or description contains it (case-insensitive).
    /// </summary>
    /// <exception cref="ArgumentException">No device or several match; the message lists the choices.</exception>
    public static AudioDevice Resolve(string name, IReadOnlyList<AudioDevice> devices)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(devices);
        var exact = devices.FirstOrDefault(d => d.Id == name);
        if (exact is not null)
        {
            return exact;
        }

        // A whole description wins over the longer ones containing it (Wine names its input "PulseAudio" and the
        // output's loopback "PulseAudio (loopback)").
        var described = devices.Where(d => d.Description.Equals(name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (described.Count == 1)
        {
            return described[0];
        }

        var matches = devices
            .Where(d => d.Id.Contains(name, StringComparison.OrdinalIgnoreCase) || d.Description.Contains(name, StringComparison.OrdinalIgnoreCase))
            .ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new ArgumentException($"No audio input matches '{name}'. Choose one of these (--input device:ID):\n{Format(devices)}"),
            _ => throw new ArgumentException($"'{name}' matches {matches.Count} audio inputs; give more of the id. Matches:\n{Format(matches)}"),
        };
    }

    /// <summary>One line per device: default mark, id, rate, channels, monitor (loopback on Windows) mark and description.</summary>
    public static string Format(IReadOnlyList<AudioDevice> devices) => Format(devices, OperatingSystem.IsWindows() ? "loopback" : "monitor");

    /// <summary>As <see cref="Format(IReadOnlyList{AudioDevice})"/>, with <paramref name="monitorLabel"/> marking what the computer plays.</summary>
    internal static string Format(IReadOnlyList<AudioDevice> devices, string monitorLabel)
    {
        ArgumentNullException.ThrowIfNull(devices);
        if (devices.Count == 0)
        {
            return "  (no capture inputs)";
        }

        var width = devices.Max(d => d.Id.Length);
        var text = new StringBuilder();
        foreach (var d in devices)
        {
            text.Append(CultureInfo.InvariantCulture, $"{(d.IsDefault ? "* " : "  ")}{d.Id.PadRight(width)}  {d.SampleRate,6} Hz  {d.Channels} ch  {(d.IsMonitor ? monitorLabel : "input".PadRight(monitorLabel.Length))}  {d.Description}\n");
        }

        return text.ToString().TrimEnd('\n');
    }
}
