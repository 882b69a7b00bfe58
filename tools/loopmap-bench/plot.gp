# Bar charts of one benchmark run (report.py writes plot.dat and
# plot.titles):
#   gnuplot -e "dat='RUN/plot.dat'; titles='1cpu-ext2 ...'; out='RUN/plot.png'" plot.gp
# One row per configuration (vCPUs, host filesystem): on the left the
# throughput of each device divided by the raw device's, on the right its
# CPU per I/O divided by the raw device's; medians over the rounds.
n = words(titles)
set terminal pngcairo size 1400, 330 * n font ",9"
set output out
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside top center horizontal font ",8"
set xtics rotate by -20 font ",8"
set yrange [0:*]
set datafile missing "NaN"
set multiplot layout n, 2 title "loopmap benchmark: ratios to the raw device (same round, median)"
do for [i = 1:n] {
	set title word(titles, i) . ": throughput ÷ raw (higher is better)"
	set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc "black" front
	plot for [c = 2:6] dat index (i - 1) using c:xtic(1) title columnheader(c)
	set title word(titles, i) . ": CPU per I/O ÷ raw (lower is better; log scale)"
	set logscale y
	set yrange [0.25:*]
	plot for [c = 7:11] dat index (i - 1) using c:xtic(1) title columnheader(c - 5)
	unset logscale y
	set yrange [0:*]
	unset arrow 1
}
unset multiplot
