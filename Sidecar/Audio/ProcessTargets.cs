using System.Globalization;

namespace CaptionSidecar.Audio;

/// <summary>A running process, as <c>--input process:NAME</c> chooses among them.</summary>
/// <param name="Id">The process id.</param>
/// <param name="Name">The executable's name without <c>.exe</c> (what Task Manager's Details tab shows, minus the extension).</param>
internal sealed record RunningProcess(int Id, string Name);

/// <summary>
/// Turns the NAME of <c>--input process:NAME</c> into the one process whose sound is captured (with its child
/// processes). Platform-neutral so it is tested anywhere; Windows supplies the process list.
/// </summary>
internal static class ProcessTargets
{
    private const int MaxListed = 30;

    /// <summary>
    /// The process called <paramref name="name"/> (with or without <c>.exe</c>, any case), or with that id.
    /// </summary>
    /// <exception cref="IOException">No process or several: the message lists the candidates and what to write.</exception>
    public static RunningProcess Resolve(string name, IReadOnlyList<RunningProcess> running)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(running);
        var wanted = name.Trim();
        if (int.TryParse(wanted, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return running.FirstOrDefault(p => p.Id == id)
                ?? throw new IOException($"No running process has id {id} (--input process:{name}); it may have exited. Start the program, then give its name, for example process:Discord.");
        }

        if (wanted.EndsWith(".exe", StringComparison.OrdinalIgnoreCase))
        {
            wanted = wanted[..^4];
        }

        var matches = running.Where(p => p.Name.Equals(wanted, StringComparison.OrdinalIgnoreCase)).OrderBy(p => p.Id).ToList();
        if (matches.Count == 1)
        {
            return matches[0];
        }

        if (matches.Count > 1)
        {
            throw new IOException(
                $"{matches.Count} processes are called '{wanted}' (--input process:{name}): {string.Join(", ", matches.Take(MaxListed).Select(p => p.Id.ToString(CultureInfo.InvariantCulture)))}. " +
                "Give the id of the program's main process as process:ID (Task Manager, Details tab, column PID); its child processes are captured with it.");
        }

        var similar = running
            .Where(p => p.Name.Contains(wanted, StringComparison.OrdinalIgnoreCase) || wanted.Contains(p.Name, StringComparison.OrdinalIgnoreCase))
            .Select(p => p.Name)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.OrdinalIgnoreCase)
            .ToList();
        var candidates = similar.Count > 0
            ? $"Similar names: {string.Join(", ", similar.Take(MaxListed))}."
            : $"Running programs: {string.Join(", ", running.Select(p => p.Name).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).Take(MaxListed))}{(running.Count > MaxListed ? ", ..." : string.Empty)}.";
        throw new IOException($"No running program is called '{wanted}' (--input process:{name}); start it first. {candidates}");
    }
}
