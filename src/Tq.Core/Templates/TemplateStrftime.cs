using System.Globalization;

namespace Tq.Core.Templates;

/// <summary>C <c>strftime</c> formatting in the "C" locale, for <c>strftime_now(format)</c> and <c>date_string</c>.</summary>
internal static class TemplateStrftime
{
    public static string Format(DateTimeOffset time, string format)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        return TemplateFormat.ExpandDirectives(format, (string f, ref int i) =>
        {
            char spec = f[i];
            bool noPad = false;
            if (spec == '-' && i + 1 < f.Length)
            {
                // glibc extension: %-d, %-m, ... without leading zeros.
                noPad = true;
                spec = f[++i];
            }

            string Pad(int value, int width) => noPad ? value.ToString(c) : value.ToString(c).PadLeft(width, '0');
            int hour12 = time.Hour % 12 == 0 ? 12 : time.Hour % 12;
            return spec switch
            {
                'Y' => time.Year.ToString(c),
                'y' => Pad(time.Year % 100, 2),
                'C' => Pad(time.Year / 100, 2),
                'm' => Pad(time.Month, 2),
                'd' => Pad(time.Day, 2),
                'e' => noPad ? time.Day.ToString(c) : time.Day.ToString(c).PadLeft(2, ' '),
                'H' => Pad(time.Hour, 2),
                'I' => Pad(hour12, 2),
                'M' => Pad(time.Minute, 2),
                'S' => Pad(time.Second, 2),
                'j' => Pad(time.DayOfYear, 3),
                'p' => time.Hour < 12 ? "AM" : "PM",
                'b' or 'h' => c.DateTimeFormat.GetAbbreviatedMonthName(time.Month),
                'B' => c.DateTimeFormat.GetMonthName(time.Month),
                'a' => c.DateTimeFormat.GetAbbreviatedDayName(time.DayOfWeek),
                'A' => c.DateTimeFormat.GetDayName(time.DayOfWeek),
                'w' => ((int)time.DayOfWeek).ToString(c),
                'u' => (time.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)time.DayOfWeek).ToString(c),
                'F' => time.ToString("yyyy-MM-dd", c),
                'D' => time.ToString("MM/dd/yy", c),
                'T' => time.ToString("HH:mm:ss", c),
                'R' => time.ToString("HH:mm", c),
                'z' => (time.Offset < TimeSpan.Zero ? "-" : "+") + time.Offset.ToString("hhmm", c),
                'n' => "\n",
                't' => "\t",
                '%' => "%",
                _ => throw TemplateErrors.Type($"Unsupported strftime directive '%{spec}'."),
            };
        });
    }
}
